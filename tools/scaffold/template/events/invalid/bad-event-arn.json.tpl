{
  "version": "0",
  "id": "9d3f2c11-5b7e-4c2a-8f0e-1a2b3c4d5e6f",
  "detail-type": "AWS Health Event",
  "source": "aws.health",
  "account": "123456789012",
  "time": "2024-01-31T21:47:00Z",
  "region": "us-east-1",
  "resources": [],
  "detail": {
    "eventArn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/<script>",
    "service": "EC2",
    "eventTypeCode": "AWS_EC2_OPERATIONAL_ISSUE",
    "eventTypeCategory": "issue",
    "eventScopeCode": "PUBLIC",
    "communicationId": "01b0993207d81a09dcd552ebd1e633e36cf1f09a-1",
    "startTime": "Wed, 31 Jan 2024 21:40:00 GMT",
    "lastUpdatedTime": "Wed, 31 Jan 2024 21:47:00 GMT",
    "statusCode": "open",
    "eventRegion": "us-east-1",
    "eventDescription": [
      {
        "language": "en_US",
        "latestDescription": "We are investigating increased API error rates in the US-EAST-1 Region."
      }
    ],
    "affectedEntities": []
  }
}
