/**
 * The EC2 client and its commands (ec2.ts), loaded by the first EC2 call. The client is about 550 KiB
 * of a bundle, and most events of the functions that hold it (onCloudTrail, onCostAnomaly,
 * onBackupFailure) never make an EC2 call: a dynamic import, which esbuild keeps in the same file but
 * evaluates only when it runs, keeps its cost off their cold start. Code that may call EC2 imports only
 * types from '@aws-sdk/client-ec2'; a static import of it would load it again at startup.
 */
export const loadEc2 = () => import('./ec2.ts');
