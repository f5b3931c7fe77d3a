import path from 'node:path';
import { existsSync } from 'node:fs';
import { ConfigError } from '../domain/config-error.js';
import { loadFeeds } from './feeds.js';
import type { FeedDirectory } from '../pipeline/hl7v2/feed-directory.js';
import { loadApiClients, type ApiClientDirectory } from './api-clients.js';
import type { Catchments } from '../pipeline/catchments.js';
import { loadCatchments } from './catchments.js';
import { REVIEW_INBOXES, type Rulebook } from '../pipeline/consent/rulebook.js';
import type { Agreements } from '../pipeline/consent/agreements.js';
import { loadAgreements } from './rulebook.js';
import type { Hl7v2MappingSet } from '../pipeline/hl7v2/build-mappings.js';
import { loadHl7v2Mappings } from './hl7v2-mappings.js';
import type { FhirMappingSet } from '../pipeline/fhir/fhir-mapping.js';
import { loadFhirMappings } from './fhir-mappings.js';
import { loadWebAppConfig, type WebAppConfig } from './web-app.js';
import { loadRetention, type LoadedRetention } from './retention.js';
import { loadAntenatalAgreement } from './antenatal-agreement.js';
import type { AntenatalAgreement } from '../pipeline/antenatal/antenatal-agreement.js';
import { loadTriggers, NO_TRIGGERS, type TriggerConfig } from './triggers.js';
import { mapHl7v2 } from '../pipeline/hl7v2/map-hl7v2.js';
import type { FeedMapper } from '../pipeline/hl7v2/assess-hl7v2.js';
import { HUB_UNALLOCATED_INBOX, unallocatedInbox } from '../pipeline/route.js';

/** Everything an operator configures, loaded and checked once at start-up. */
export interface HubConfig {
  configDir: string;
  feeds: FeedDirectory;
  mappings: Hl7v2MappingSet;
  fhirMappings: FhirMappingSet;
  catchments: Catchments;
  /** The default agreement (for births no local authority covers); see `agreements` for the one per area. */
  rulebook: Rulebook;
  /** Every information-sharing agreement in `consent-rules/`, and which one each local authority uses. */
  agreements: Agreements;
  apiClients: ApiClientDirectory;
  /** The web app's sign-in and sessions; absent when the folder has no `mappings/web-app.json` (no web app). */
  webApp?: WebAppConfig;
  /** How long personal data is kept (`mappings/retention.json`, issue 14); absent when the folder has none (no purge runs). */
  retention?: LoadedRetention;
  /** The antenatal agreement (`consent-rules/antenatal/`, issue 17); absent: maternity bookings are quarantined. */
  antenatal?: AntenatalAgreement;
  /** Trigger agreements (`consent-rules/triggers/`, issue 17) and the one each local authority uses; none when absent. */
  triggers: TriggerConfig;
}

/** The layout of a configuration folder (the repository root holds the sample one). */
export const configFiles = (dir: string) => ({
  feeds: path.join(dir, 'mappings', 'feeds.json'),
  hl7v2Mappings: path.join(dir, 'mappings', 'hl7v2'),
  fhirMappings: path.join(dir, 'mappings', 'fhir'),
  catchments: path.join(dir, 'mappings', 'catchments.json'),
  apiClients: path.join(dir, 'mappings', 'api-clients.json'),
  webApp: path.join(dir, 'mappings', 'web-app.json'),
  rulesDir: path.join(dir, 'consent-rules'),
  agreements: path.join(dir, 'mappings', 'agreements.json'),
  retention: path.join(dir, 'mappings', 'retention.json'),
});

/**
 * Loads and cross-checks the configuration folder. Any bad file stops start-up with a message naming the
 * file and the field; problems in several files are all reported together.
 */
export function loadHubConfig(configDir: string): HubConfig {
  const files = configFiles(configDir);
  if (!existsSync(configDir)) throw new ConfigError(`STORK_CONFIG_DIR ${configDir} does not exist`);
  const problems: string[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      if (err instanceof ConfigError) {
        problems.push(...err.problems);
        return undefined;
      }
      throw err;
    }
  };
  const mappings = attempt(() => loadHl7v2Mappings(files.hl7v2Mappings));
  const fhirMappings = attempt(() => loadFhirMappings(files.fhirMappings));
  // A file that failed to load is not used to check the others: one mistake is reported once, not echoed.
  const feeds = attempt(() =>
    loadFeeds(files.feeds, mappings ? new Set(mappings.names()) : undefined, fhirMappings ? new Set(fhirMappings.names()) : undefined),
  );
  const catchments = attempt(() => loadCatchments(files.catchments));
  // Agreements are checked against the local authorities only when the catchments loaded (else reported once, there).
  const agreements = catchments
    ? attempt(() => loadAgreements(files.rulesDir, files.agreements, new Set(catchments.localAuthorities.map((la) => la.id))))
    : undefined;
  const rulebook = agreements?.default;
  const triggers = catchments
    ? attempt(() =>
        loadTriggers(
          files.rulesDir,
          files.agreements,
          new Set(catchments.localAuthorities.map((la) => la.id)),
          new Set(inboxIds(catchments)),
        ),
      )
    : undefined;
  const apiClients = attempt(() =>
    loadApiClients(files.apiClients, {
      // A feed client's scope is an HL7 v2 sending facility or a FHIR feed's id.
      ...(feeds
        ? {
            feedFacilities: new Set([
              ...feeds.feeds.map((f) => f.sendingFacility),
              ...feeds.fhirFeeds.map((f) => f.id),
              ...feeds.nemsFeeds.map((f) => f.id),
            ]),
          }
        : {}),
      ...(catchments ? { centreIds: new Set(inboxIds(catchments)) } : {}),
    }),
  );
  const webApp = attempt(() =>
    loadWebAppConfig(files.webApp, catchments ? new Set([...inboxIds(catchments), ...(triggers?.inboxes.keys() ?? [])]) : undefined),
  );
  const retention = attempt(() => loadRetention(files.retention));
  const antenatal = attempt(() => loadAntenatalAgreement(configDir));
  if (feeds && apiClients) {
    // Each FHIR feed names the one API client that may send for it: a feed client whose scope is the feed.
    for (const feed of [...feeds.fhirFeeds, ...feeds.nemsFeeds]) {
      const client = apiClients.clients.find((c) => c.id === feed.apiClient);
      const kind = feed.kind === 'nems' ? 'NEMS' : 'FHIR';
      if (client?.role !== 'feed' || client.scope !== feed.id)
        problems.push(
          `${files.feeds}: ${kind} feed "${feed.id}" field apiClient: "${feed.apiClient}" must be an API client with role feed and scope "${feed.id}" in ${files.apiClients}`,
        );
    }
  }
  if (feeds && fhirMappings) {
    // A NEMS feed's mapping must say how STU3 birth notifications are read (its `nems` section).
    for (const feed of feeds.nemsFeeds)
      if (fhirMappings.names().includes(feed.mapping) && fhirMappings.get(feed.mapping).file.nems === undefined)
        problems.push(`${files.feeds}: NEMS feed "${feed.id}" field mapping: "${feed.mapping}" has no nems section (mappings/fhir)`);
  }
  if (problems.length > 0 || !mappings || !fhirMappings || !feeds || !catchments || !rulebook || !apiClients) {
    throw new ConfigError(`Invalid configuration in ${configDir}:\n  ${problems.join('\n  ')}`, problems);
  }
  return {
    configDir,
    feeds,
    mappings,
    fhirMappings,
    catchments,
    rulebook,
    agreements,
    apiClients,
    ...(webApp ? { webApp } : {}),
    ...(retention ? { retention } : {}),
    ...(antenatal ? { antenatal } : {}),
    triggers: triggers ?? NO_TRIGGERS,
  };
}

/** The mapper intake uses: each feed's own mapping. */
export function feedMapper(mappings: Hl7v2MappingSet): FeedMapper {
  return (text, feed, receivedAt) =>
    mapHl7v2(text, mappings.get(feed.mapping), { feedId: feed.id, receivedAt, ...(feed.backfill ? { backfill: feed.backfill } : {}) });
}

/** Every inbox id the hub delivers to: each centre, each local authority's unallocated inbox, the hub's, and review. */
export function inboxIds(catchments: Catchments): string[] {
  return [
    ...catchments.centres.keys(),
    ...catchments.localAuthorities.map((la) => unallocatedInbox(la.id)),
    HUB_UNALLOCATED_INBOX,
    ...REVIEW_INBOXES,
  ];
}
