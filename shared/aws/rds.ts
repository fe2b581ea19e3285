/**
 * The RDS client and the calls onCloudTrail's snapshot-share remediation makes, loaded with import()
 * only when it runs: no other code calls RDS, so the code-split build keeps the client out of every
 * bundle's start-up path.
 */
import { RDSClient } from '@aws-sdk/client-rds';
import { tracer } from '#shared/runtime/powertools.ts';
import { actingClient, sdkClientSettings } from './client.ts';

export {
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
} from '@aws-sdk/client-rds';

export const rds = actingClient((target) =>
  tracer.captureAWSv3Client(new RDSClient({ ...sdkClientSettings(), ...target })),
);
