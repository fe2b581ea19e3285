/** A CloudFormation value as it appears in the compiled template: a literal or an intrinsic function. */
export type CfnValue = string | number | boolean | CfnValue[] | { [key: string]: CfnValue };

export interface IamStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: CfnValue;
  Condition?: CfnValue;
}
