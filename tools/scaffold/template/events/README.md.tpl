# __NAME__ fixtures

The shape of every fixture is AWS's, from the sample payloads of
https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html; the values are
made for these tests.

- `sample.json`: an open AWS Health `issue` (AWS_EC2_OPERATIONAL_ISSUE) in this account and region;
  the deployment's sample, paged on every stage by default.
- `invalid/bad-event-arn.json`: made for this test: the sample with an event ARN that is not one
  (`<script>` where the event id belongs); refused naming `detail.eventArn`.
