import { describe, expect, it } from 'vitest';
import { DETECTIONS, detect } from '#functions/onCloudTrail/detections.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { DETECTION_NAMES } from '#functions/onCloudTrail/settings.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';

// Every fixture of onCloudTrail that parses, with the detections it matches.
const matched = listFixtures()
  .filter((f) => f.startsWith('onCloudTrail/') && !f.includes('/invalid/'))
  .flatMap((fixture) => {
    const parsed = CloudTrailEvent.safeParse(loadFixture(fixture));
    if (!parsed.success) return [];
    const event = parsed.data;
    return [{ fixture, event, detections: detect(event, DETECTION_NAMES).map((f) => f.detection) }];
  });

describe('onCloudTrail detection declarations', () => {
  it.each(DETECTIONS.map((d) => [d.name, d] as const))(
    '%s is matched by a fixture under events/onCloudTrail/ and not by every one',
    (name) => {
      // Act
      const by = matched.filter((m) => m.detections.includes(name)).map((m) => m.fixture);
      // Assert
      expect(by.length).toBeGreaterThan(0);
      expect(by.length).toBeLessThan(matched.length);
    },
  );

  it.each(DETECTIONS.map((d) => [d.name, d] as const))(
    '%s matches only calls its declaration makes the rules deliver',
    (name, declaration) => {
      // Arrange: a detection that reads a call it does not list would never see that call deployed.
      const watched = declaration.watches;
      // Act
      const undelivered = matched
        .filter((m) => m.detections.includes(name))
        .filter((m) => 'calls' in watched && !watched.calls.includes(m.event.detail.eventName))
        .map((m) => `${m.fixture}: ${m.event.detail.eventName}`);
      // Assert
      expect(undelivered).toEqual([]);
    },
  );
});
