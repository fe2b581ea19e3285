# __NAME__: page AWS Health events

Scaffolded by `npm run new:function -- __NAME__`: an AWS Health event of a category the stage pages
becomes one page per event (its updates join the same incident); the other categories, and a closed
event, are recorded. Replace this paragraph with what the function is for.

## Trigger

<!-- generated:trigger:__NAME__ -->
<!-- /generated:trigger:__NAME__ -->

## Decisions

- **Pages** an `open` or `upcoming` event of a category in `__KEY__.page`, at `__KEY__.severity`.
- **Records** a `closed` event, or one of a category the stage does not page (metric `HealthEventsRecorded`).

## Settings

<!-- generated:settings:__NAME__ -->
<!-- /generated:settings:__NAME__ -->

What each key means: [configuration](../configuration.md#configuration).

## IAM

The IAM actions its role holds on each stage of `config/stages.ts` (generated from what the code declares; the package test holds each role to exactly these, resources and conditions in the packaged template):

<!-- generated:iam:__NAME__ -->
<!-- /generated:iam:__NAME__ -->
