import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation } from './client.ts';

export const dynamodb = boundToInvocation(tracer.captureAWSv3Client(new DynamoDBClient({})));
export const documents = boundToInvocation(
  DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
);
