{
  "source": ["aws.health"],
  "detail-type": ["AWS Health Event"]
}
