import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from './logger.js';
import { repoRoot, type EnvConfig, type RedisSettings } from './config/env.js';
import { ConfigError } from './domain/config-error.js';
import { configFiles, feedMapper, inboxIds, loadHubConfig, type HubConfig } from './config/hub-config.js';
import { meshMailboxes, type MeshMailboxSettings } from './config/mesh-mailboxes.js';
import { MeshPoller } from './intake/mesh-poller.js';
import type { Database } from './ports/database.js';
import type { DeliveryJobs } from './ports/delivery-jobs.js';
import { errorCode } from './ports/errors.js';
import type { FeedMapper } from './pipeline/hl7v2/assess-hl7v2.js';
import { Hl7v2Intake, INTAKE_CONCURRENT_BATCHES } from './intake/hl7v2-intake.js';
import { newInternalErrorCounts, type InternalErrorCounts } from './intake/internal-errors.js';
import { FhirIntake, type FhirIntakeResult, type InboundNems } from './intake/fhir-intake.js';
import { ReceiptCommitter } from './intake/receipt-committer.js';
import { capabilityStatement } from './pipeline/fhir/fhir-response.js';
import type { ReplayDeps } from './intake/replay-message.js';
import { deliverNotifications, processMessages } from './processing/process-messages.js';
import { recoverUnfinished } from './processing/recover-unfinished.js';
import { coalesceJobs } from './batching/coalesce-jobs.js';
import { ResourceStack } from './hub/resource-stack.js';
import { RequeueStranded } from './processing/requeue-stranded.js';
import { openPurposePools, openStore } from '../adapters/store/open-store.js';
import { SqlMessageStore } from '../adapters/store/sql-message-store.js';
import { DataCipher } from '../adapters/store/data-cipher.js';
import { fixPseudonymKey } from '../adapters/store/pseudonym-key.js';
import { SqlNotificationStore } from '../adapters/store/sql-notification-store.js';
import { SqlFamilyViewStore } from '../adapters/store/sql-family-view-store.js';
import { SqlOfferOutcomeStore } from '../adapters/store/sql-offer-outcomes.js';
import { SqlIdentityStore } from '../adapters/store/sql-identity-store.js';
import { SqlAuditLog } from '../adapters/store/sql-audit-log.js';
import { SignInFailureAudit } from '../adapters/http/sign-in-failures.js';
import { SqlFhirFetchStore } from '../adapters/store/sql-fhir-fetch-store.js';
import { SqlConsentRegister } from '../adapters/store/sql-consent-register.js';
import { SqlAntenatalStore } from '../adapters/store/sql-antenatal-store.js';
import { expectingPages } from '../adapters/http/app/expecting-pages.js';
import { planDelivery, type ConsentInput } from './pipeline/plan-delivery.js';
import type { BirthNotification } from './domain/birth-notification.js';
import { Periodic } from './fetch/periodic.js';
import { runConsentPeriods } from './processing/consent-periods.js';
import { FhirKitServer } from '../adapters/fhir-server/fhir-kit-server.js';
import { EventIntake } from './intake/event-intake.js';
import { EventFetcher } from './fetch/event-fetcher.js';
import { FeedPoller } from './fetch/feed-poller.js';
import type { FhirServer } from './ports/fhir-server.js';
import type { FhirFeedConfig, FhirFetchSettings } from './pipeline/fhir/fhir-feed.js';
import { BullmqQueues, deliveryJobs, startRetentionJob, startWorkers, type RetentionJob } from '../adapters/queue/bullmq-queues.js';
import { SqlRetentionStore } from '../adapters/store/sql-retention-store.js';
import { runRetention } from './processing/run-retention.js';
import { dailyCron } from './domain/retention-policy.js';
import { redisAddress, redisConnection, redisFailure, type RedisClient } from '../adapters/queue/redis-connection.js';
import { MllpListener } from '../adapters/mllp/mllp-listener.js';
import { JwtVerifier } from '../adapters/http/jwt-verifier.js';
import { MeshClient } from '../adapters/mesh/mesh-client.js';
import express from 'express';
import { createHttpApp, createHttpServer, type HttpServer, type HttpTimeouts } from '../adapters/http/http-app.js';
import { AuditCheckpointer, verifyAuditChain } from '../adapters/store/audit-chain.js';
import { loadAuditKeys, type AuditKeys } from './config/audit-keys.js';
import { loadDataKeys } from './config/data-keys.js';
import { healthRoutes } from '../adapters/http/routes/health.js';
import { createWebApp } from '../adapters/http/app/web-app.js';
import { centrePages } from '../adapters/http/app/centre-pages.js';
import { householdPages } from '../adapters/http/app/household-pages.js';
import type { Catchments } from './pipeline/catchments.js';
import { unallocatedInbox } from './pipeline/route.js';
import type { ConsentDeps, RedecideBookings } from './processing/record-consents.js';
import { redecideBookings } from './processing/antenatal-bookings.js';
import { householdConsentPages } from '../adapters/http/app/household-consents.js';
import { consentHistoryPages } from '../adapters/http/app/consent-history-pages.js';
import type { SignInEndpoint } from '../adapters/http/app/oidc-sign-in.js';
import { SqlWebSessionStore } from '../adapters/store/sql-web-session-store.js';
import type { PageKit } from '../adapters/http/app/web-app.js';
import type { WebPages } from '../adapters/http/app/navigation.js';
import { igPages } from '../adapters/http/app/ig-pages.js';
import { reportPages } from '../adapters/http/app/report-pages.js';
import { reachPages } from '../adapters/http/app/reach-pages.js';
import { contactTargetDays } from './pipeline/reports/reach.js';
import { operatorPages } from '../adapters/http/app/operator-pages.js';
import { reviewPages } from '../adapters/http/app/review-pages.js';
import { SqlFamilyStore } from '../adapters/store/sql-family-store.js';
import { loadMatchModel } from './config/matching.js';
import { bindMatcher, type FamilyMatcher } from './pipeline/family-match.js';
import { SqlDecisionHistory } from '../adapters/store/sql-decision-history.js';
import { SqlIgReports } from '../adapters/store/sql-ig-reports.js';
import { explainNotification } from './processing/explain-notification.js';
import { recordAgreementVersions } from './processing/agreement-versions.js';
import { configFileDigests } from './config/config-digests.js';
import { simulateAgreement } from './processing/simulate-agreement.js';
import { SqlAntenatalInbox } from '../adapters/store/sql-antenatal-inbox.js';
import { agreementPages, agreementsInForce } from '../adapters/http/app/agreement-pages.js';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { queueDashboard } from '../adapters/http/app/queue-dashboard.js';
import { PrometheusMetrics } from '../adapters/metrics/prometheus-metrics.js';
import { metricsRoutes } from '../adapters/http/routes/metrics.js';
import type { Metrics, MetricsExposition } from './ports/metrics.js';
import { webhookOf } from './pipeline/catchments.js';
import { loadWebhookTargets } from './config/webhook-targets.js';
import { sendWebhook, WebhookSweep, type WebhookDeps, type WebhookTarget } from './processing/webhooks.js';
import { backoffDelay } from './domain/webhook-signature.js';
import { SqlWebhookStore } from '../adapters/store/sql-webhook-store.js';
import { HttpsWebhookSender } from '../adapters/webhook/https-sender.js';
import { startWebhookWorkers } from '../adapters/queue/bullmq-queues.js';
// Triggers (issue 17 item 2): A&E attendances, the early-help queue and the IG lead's triggers pages.
import { withAttendances } from './pipeline/triggers/attendance-mapper.js';
import { triggerAgreementForFamily } from './pipeline/triggers/area.js';
import type { ParentFamily } from './ports/triggers.js';
import { SqlTriggerStore } from '../adapters/store/sql-trigger-store.js';
import { earlyHelpPages } from '../adapters/http/app/early-help-pages.js';
import { triggerPages } from '../adapters/http/app/trigger-pages.js';

export interface Hub {
  config: HubConfig;
  db: Database;
  queues: BullmqQueues;
  /** Bound ports (0 in the settings picks a free one: tests do). */
  httpPort?: number;
  mllpPort?: number;
  /** Bugs met while handling messages, counted in this process (to be exposed as metrics). */
  internalErrors: InternalErrorCounts;
  /** The daily retention purge's queue and worker (worker role, with `mappings/retention.json`). */
  retention?: RetentionJob;
  /** This process's metrics (served at GET /metrics); tests read them too. */
  metrics: Metrics & MetricsExposition;
  /**
   * NHS national birth notifications (NEMS, FHIR STU3) for a NEMS feed, without HTTP: bytes and the feed id
   * (what a MESH mailbox poller hands over). Present when this process has the intake role.
   */
  receiveNems?: (n: Omit<InboundNems, 'feed'> & { feedId: string }) => Promise<FhirIntakeResult>;
  /** The Express apps this process serves (intake role): the API and, under `/app`, the web app. Tests walk their routes. */
  apps?: { api: express.Express; web?: express.Express };
  /** Graceful stop: stop accepting, finish in-flight messages, close workers, then pools. */
  stop(): Promise<void>;
}

export interface StartOptions {
  env: EnvConfig;
  logger: Logger;
  /** An already open, migrated store (tests); otherwise opened from the settings. */
  db?: Database;
}

/** What the intake and worker parts share: the store, the queues and the configuration. */
interface Core {
  env: EnvConfig;
  logger: Logger;
  config: HubConfig;
  db: Database;
  producer: RedisClient;
  messages: SqlMessageStore;
  /** The data keys that encrypt message bytes, ACKs and the identifiable records at rest (every store reading them is given it). */
  dataCipher: DataCipher;
  notifications: SqlNotificationStore;
  audit: SqlAuditLog;
  queues: BullmqQueues;
  deliveryJobs: DeliveryJobs;
  mapper: FeedMapper;
  internalErrors: InternalErrorCounts;
  clock: () => Date;
  fetchStore: SqlFhirFetchStore;
  /** Set by the worker role: look for due signal events now (intake calls it after storing one). */
  nudgeFetcher?: () => void;
  /** Family matching (issue 12) with the model of `mappings/matching.json`. */
  familyMatcher: FamilyMatcher;
  /** The audit checkpoints' signing key and the public keys that verify them (issue 14). */
  auditKeys: AuditKeys;
  metrics: PrometheusMetrics;
  /** Webhook deliveries and dead letters (issue 15). */
  webhooks: SqlWebhookStore;
  /** Centres whose delivery is `webhook` or `both`. */
  webhookCentres: readonly string[];
  /** The webhooks' secrets and CAs, read at start-up (worker role). */
  webhookTargets?: ReadonlyMap<string, WebhookTarget>;
  /** Set by the worker role: look for inbox events to push now. */
  nudgeWebhooks?: () => void;
}

/** Largest register import body (POST /v1/families/import): about 50,000 rows of a family register. */
const MAX_IMPORT_BYTES = 16 * 1024 * 1024;

/** How long start-up waits for Redis before it stops, saying so (a sentinel or cluster client would retry forever). */
const REDIS_STARTUP_MS = 5000;

async function connectRedis(settings: RedisSettings, purpose: 'worker' | 'producer', name: string): Promise<RedisClient> {
  const redis = redisConnection(settings, purpose, name);
  // ioredis reports a refused connection as "Connection is closed"; the socket error's code says why.
  let cause: string | undefined;
  redis.once('error', (err: unknown) => (cause = redisFailure(err)));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${REDIS_STARTUP_MS / 1000} s`)), REDIS_STARTUP_MS);
      }),
    ]);
  } catch (err) {
    redis.disconnect();
    cause ??= redisFailure(err);
    const hint =
      settings.mode === 'cluster'
        ? 'Check that the seed nodes of STORK_REDIS_NODES answer and that `redis-cli -c -h <node> cluster info` says cluster_state:ok.'
        : settings.mode === 'sentinel'
          ? 'Check STORK_REDIS_SENTINELS and that `redis-cli -h <sentinel> -p <port> sentinel get-master-addr-by-name <STORK_REDIS_SENTINEL_MASTER>` names a master that answers.'
          : 'Start one locally with `redis-server --daemonize yes --bind 127.0.0.1 --port 6379` or `docker run -p 6379:6379 redis:7`, or set REDIS_URL.';
    throw new ConfigError(`${redisAddress(settings)} cannot be reached (${cause}). ${hint}`);
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

/** This build's version, as the FHIR CapabilityStatement reports it. */
const STORK_VERSION = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';

/**
 * Starts the roles this process runs (intake: HTTP and MLLP; worker: BullMQ workers) against one store and
 * Redis. Everything opened is registered on a stack as it opens: stop() closes it newest first (listeners,
 * workers, queues, connections, pools), and a start-up failing part-way (a port taken, Redis gone) closes
 * what it had opened before rejecting.
 */
export async function startHub({ env, logger, db: givenDb }: StartOptions): Promise<Hub> {
  const config = loadHubConfig(env.configDir);
  const matchModel = loadMatchModel(path.join(env.configDir, 'mappings', 'matching.json'));
  // A key file that cannot be read, or is not Ed25519, stops start-up before anything opens.
  const auditKeys = loadAuditKeys({
    ...(env.auditSigningKeyFile !== undefined ? { signingKeyFile: env.auditSigningKeyFile } : {}),
    publicKeyFiles: env.auditPublicKeyFiles,
    configDir: env.configDir,
  });
  if (auditKeys.signing === undefined)
    logger.warn(
      'audit: no checkpoint signing key (STORK_AUDIT_SIGNING_KEY_FILE), so no signed checkpoints: a truncated audit tail would go unnoticed',
    );
  else if (auditKeys.signing.demo)
    logger.warn(
      { keyId: auditKeys.signing.keyId },
      "audit: checkpoints are signed with the sample configuration's DEMO key, whose private half is public: set STORK_AUDIT_SIGNING_KEY_FILE to a key of your own",
    );
  // Data keys (encryption at rest): a key file that cannot be read, or is not a 32-byte key, stops start-up too.
  const dataKeys = loadDataKeys({ keyFiles: env.dataKeyFiles, configDir: env.configDir });
  if (dataKeys.current === undefined)
    logger.warn('store: no data key (STORK_DATA_KEY_FILES), so message bytes, ACKs and identifiable records are stored in clear');
  else if (dataKeys.demo)
    logger.warn(
      { dataKeyId: dataKeys.current.keyId },
      "store: message bytes, ACKs and identifiable records are encrypted with the sample configuration's DEMO data key, which is public: set STORK_DATA_KEY_FILES to a key of your own",
    );
  else
    logger.info(
      { dataKeyId: dataKeys.current.keyId, dataKeys: dataKeys.byId.size },
      'store: message bytes, ACKs and identifiable records encrypted at rest',
    );
  const dataCipher = new DataCipher(dataKeys);
  // The content hash of each configuration file, read as it was loaded: audited as `config-loaded` once the store is open.
  const configDigests = configFileDigests(env.configDir);
  // MESH mailboxes are polled by intake: their secrets and certificates are read (or start-up stops) before anything opens.
  const mesh = env.roles.includes('intake') ? meshMailboxes(config.feeds.nemsFeeds, env, configFiles(env.configDir).feeds) : [];
  // Webhooks are sent by workers: their secrets and CA files are read (or start-up stops naming the centre) before anything opens.
  const webhookCentres = [...config.catchments.centres].filter(([, c]) => webhookOf(c.delivery) !== undefined).map(([id]) => id);
  const webhooks = env.roles.includes('worker') ? loadWebhookTargets(config.catchments, env.configDir, env.secret) : undefined;
  if (webhooks !== undefined && webhooks.demo.length > 0)
    logger.warn(
      { centres: webhooks.demo },
      "webhooks: signed with the sample configuration's DEMO secret, which is public: give each centre a secret of its own",
    );
  const opened = new ResourceStack();
  return opened.orCloseAll(async () => {
    const producer = await connectRedis(env.redis, 'producer', `${env.queuePrefix}:producer`);
    opened.add('Redis producer connection', () => quit(producer));
    let db = givenDb;
    if (db === undefined) {
      const own = await openStore({
        dataDir: env.dataDir,
        logger,
        ...(env.databaseUrl ? { databaseUrl: env.databaseUrl } : {}),
        ...(env.migrationDatabaseUrl ? { migrationDatabaseUrl: env.migrationDatabaseUrl } : {}),
      });
      opened.add('store', () => own.close());
      db = own;
    }
    // The data key NHS numbers and lookup keys are pseudonymised under, fixed at the first start with a key (migration 038).
    const pseudonymKeyId = await fixPseudonymKey(db, dataCipher);
    if (pseudonymKeyId !== undefined) logger.info({ pseudonymKeyId }, 'store: NHS numbers and lookup keys stored as pseudonyms');
    // Every agreement version not loaded before is recorded (who, when, content hash) in the audit (issue 13).
    // So are the antenatal and trigger agreements (issue 17), so the IG lead sees every agreement in force.
    await recordAgreementVersions(new SqlDecisionHistory(db, dataCipher), config.agreements, logger, new Date(), [
      ...(config.antenatal ? [config.antenatal] : []),
      ...config.triggers.agreements.values(),
    ]);
    const loadedAt = new Date();
    await new SqlAuditLog(db, dataCipher).append(
      configDigests.map((f) => ({
        at: loadedAt,
        actor: 'system:start-up',
        action: 'config-loaded' as const,
        outcome: 'loaded',
        details: { file: f.file, sha256: f.sha256, bytes: f.bytes, roles: env.roles, role: 'system', purpose: 'processing' },
      })),
    );
    const queues = new BullmqQueues(producer, env.queuePrefix, env.redis.mode === 'cluster', webhookCentres);
    opened.add('queues', () => queues.close());
    const core: Core = {
      env,
      logger,
      config,
      db,
      producer,
      messages: new SqlMessageStore(db, dataCipher),
      dataCipher,
      notifications: new SqlNotificationStore(db, dataCipher),
      audit: new SqlAuditLog(db, dataCipher),
      queues,
      deliveryJobs: deliveryJobs(queues),
      mapper: withAttendances(feedMapper(config.mappings), config.triggers.all),
      internalErrors: newInternalErrorCounts(),
      clock: () => new Date(),
      fetchStore: new SqlFhirFetchStore(db, dataCipher),
      familyMatcher: bindMatcher(matchModel),
      auditKeys,
      metrics: processMetrics(config, queues),
      webhooks: new SqlWebhookStore(db, dataCipher),
      webhookCentres,
      ...(webhooks !== undefined ? { webhookTargets: webhooks.targets } : {}),
    };

    let retention: RetentionJob | undefined;
    if (env.roles.includes('worker')) {
      retention = await startWorkerRole(core, opened);
      await recoverUnfinished({ ...core, processingJobs: queues });
      // Intake adds a message's job after its ACK: one that never reached Redis is queued again without waiting for a restart.
      const sweep = new RequeueStranded(
        {
          store: core.messages,
          processingJobs: queues,
          notifications: core.notifications,
          deliveryJobs: core.deliveryJobs,
          logger,
          clock: core.clock,
        },
        env.recoverySweepMs,
      );
      sweep.start();
      opened.add('recovery sweep', () => sweep.stop());
      startConsentPeriods(core, opened);
      startFetching(core, opened);
      startAuditCheckpoints(core, opened);
    }
    const ports = env.roles.includes('intake') ? await startIntakeRole(core, opened, mesh) : await startHealthOnly(core, opened);
    logger.info({ roles: env.roles, store: db.kind }, 'stork started');

    let stopped = false;
    return {
      config,
      db,
      queues,
      ...ports,
      internalErrors: core.internalErrors,
      ...(retention ? { retention } : {}),
      metrics: core.metrics,
      async stop() {
        if (stopped) return;
        stopped = true;
        await opened.closeAll();
        logger.info('stork stopped');
      },
    };
  });
}

/**
 * Signed checkpoints of the audit chain (issue 14): every few seconds the worker looks whether one is due (after
 * STORK_AUDIT_CHECKPOINT_EVENTS events, or STORK_AUDIT_CHECKPOINT_SECONDS since the last) and writes it.
 */
function startAuditCheckpoints(core: Core, opened: ResourceStack): void {
  const signing = core.auditKeys.signing;
  if (signing === undefined) return;
  const checkpointer = new AuditCheckpointer(core.db, signing.privateKey, core.logger, {
    everyEvents: core.env.auditCheckpointEvents,
    everyMs: core.env.auditCheckpointMs,
  });
  let running: Promise<unknown> | undefined;
  const timer = setInterval(
    () => {
      running ??= checkpointer
        .tick(core.clock())
        .catch((err: unknown) => core.logger.warn({ err: errorCode(err) }, 'audit: checkpoint not written; tried again shortly'))
        .finally(() => (running = undefined));
    },
    Math.min(5000, core.env.auditCheckpointMs),
  );
  opened.add('audit checkpoints', async () => {
    clearInterval(timer);
    await running;
  });
}

/**
 * The worker part: its own blocking Redis connection, the processing worker and one delivery worker per inbox, and the
 * daily retention purge (when the configuration has `mappings/retention.json`).
 */
async function startWorkerRole(core: Core, opened: ResourceStack): Promise<RetentionJob | undefined> {
  const { env, config, logger, notifications, clock } = core;
  const connection = await connectRedis(env.redis, 'worker', `${env.queuePrefix}:worker`);
  opened.add('Redis worker connection', () => quit(connection));
  const webhookInboxes = new Set(core.webhookCentres);
  const processDeps = {
    store: notifications,
    deliveryJobs: core.deliveryJobs,
    rulebook: config.agreements,
    catchments: config.catchments,
    logger,
    clock,
    identity: new SqlIdentityStore(core.db, core.dataCipher),
    families: core.familyMatcher,
    reviewJobs: { enqueue: (ids: readonly string[]) => core.queues.enqueueReviews(ids) },
    metrics: core.metrics,
    ...(config.antenatal ? { antenatal: { store: new SqlAntenatalStore(core.db, core.dataCipher), agreement: config.antenatal } } : {}),
    triggers: {
      store: new SqlTriggerStore(core.db, core.dataCipher),
      triggers: config.triggers.all,
      agreementForFamily: (family: ParentFamily) => triggerAgreementForFamily(family, config.catchments, config.triggers.byLocalAuthority),
    },
  };
  const workers = startWorkers({
    connection,
    prefix: env.queuePrefix,
    hashTagged: env.redis.mode === 'cluster',
    concurrency: env.workerConcurrency,
    lockMs: env.jobLockMs,
    inboxIds: inboxIds(config.catchments),
    process: coalesceJobs((ids) => processMessages(processDeps, ids), {
      maxJobsPerBatch: env.workerConcurrency,
      maxConcurrentBatches: 1,
    }),
    deliver: deliverByInbox(async (inboxId, ids) => {
      await deliverNotifications(notifications, logger, inboxId, ids, clock, core.metrics);
      // In the inbox: a centre with a webhook gets it pushed now, not at the next sweep.
      if (webhookInboxes.has(inboxId)) core.nudgeWebhooks?.();
    }, env.workerConcurrency),
    logger,
  });
  opened.add('workers', () => workers.close());
  startWebhooks(core, connection, opened);
  return startRetention(core, connection, opened);
}

/**
 * Webhooks (issue 15 items 1 and 2), in the worker role: one worker per centre with a webhook, on its own queue, and
 * the sweep that records the inbox events to push (every STORK_WEBHOOK_SWEEP_MS, or at once after a delivery) and
 * feeds the dead-letter gauge. Stopped before the workers, which finish the requests in flight.
 */
function startWebhooks(core: Core, connection: RedisClient, opened: ResourceStack): void {
  const { env, logger, clock } = core;
  const targets = core.webhookTargets;
  if (targets === undefined || targets.size === 0) return;
  const backoff = { baseMs: env.webhookBackoffMs, maxMs: env.webhookBackoffMaxMs };
  const sender = new HttpsWebhookSender();
  const deps: WebhookDeps = {
    store: core.webhooks,
    sender,
    targets,
    settings: { backoff, horizonMs: env.webhookHorizonMs, timeoutMs: env.webhookTimeoutMs },
    logger,
    clock,
    metrics: core.metrics,
    notifications: core.notifications,
    antenatal: new SqlAntenatalInbox(core.db, core.dataCipher),
  };
  const workers = startWebhookWorkers({
    connection,
    prefix: env.queuePrefix,
    centreIds: [...targets.keys()],
    concurrency: env.webhookConcurrency,
    lockMs: env.jobLockMs,
    backoff: (attemptsMade) => backoffDelay(attemptsMade, backoff),
    send: (id) => sendWebhook(deps, id),
    logger,
    hashTagged: env.redis.mode === 'cluster',
  });
  opened.add('webhook workers', () => workers.close());
  // Closed before the workers (newest first): requests in flight end at once, their jobs retried by the next worker.
  opened.add('webhook requests', () => {
    sender.close();
    return Promise.resolve();
  });
  const sweep = new WebhookSweep({
    store: core.webhooks,
    jobs: { enqueue: (centreId, ds) => core.queues.enqueueWebhooks(centreId, ds) },
    centreIds: [...targets.keys()],
    clock,
    logger,
    metrics: core.metrics,
    lookbackMs: env.webhookLookbackMs,
    marginMs: 60_000,
  });
  const periodic = new Periodic(
    env.webhookSweepMs,
    () => sweep.run(),
    (err) => logger.warn({ err: errorCode(err) ?? (err instanceof Error ? err.name : 'error') }, 'webhook sweep failed; it runs again'),
  );
  periodic.start();
  core.nudgeWebhooks = () => periodic.nudge();
  opened.add('webhook sweep', () => periodic.stop());
  logger.info({ centres: [...targets.keys()] }, 'webhooks sending');
}

/** The retention purge (issue 14 item 6): a BullMQ job scheduled daily at the configured local time. */
async function startRetention(core: Core, connection: RedisClient, opened: ResourceStack): Promise<RetentionJob | undefined> {
  const { env, config, logger } = core;
  const retention = config.retention;
  if (retention === undefined) {
    logger.warn('no mappings/retention.json in the configuration: personal data is not purged');
    return undefined;
  }
  const store = new SqlRetentionStore(core.db);
  const job = await startRetentionJob({
    producer: core.producer,
    connection,
    prefix: env.queuePrefix,
    hashTagged: env.redis.mode === 'cluster',
    pattern: dailyCron(retention.config.schedule.dailyAt),
    timeZone: retention.config.schedule.timeZone,
    lockMs: env.jobLockMs,
    logger,
    run: async () => {
      await runRetention({
        store,
        config: retention.config,
        configSha256: retention.sha256,
        owner: `${env.queuePrefix}:${process.pid}:${randomUUID()}`,
        clock: core.clock,
        logger,
      });
    },
  });
  opened.add('retention job', () => job.close());
  logger.info({ dailyAt: retention.config.schedule.dailyAt, timeZone: retention.config.schedule.timeZone }, 'retention purge scheduled');
  return job;
}

/**
 * A mother's antenatal bookings decided again after a consent change (redecideBookings), on this pool: for the consent
 * API and pages, and the consent-period job. None when the hub takes no bookings.
 */
function bookingsRedecided(core: Core, db: Database): { antenatal?: RedecideBookings } {
  const agreement = core.config.antenatal;
  if (agreement === undefined) return {};
  const deps = {
    store: new SqlAntenatalStore(db, core.dataCipher),
    agreement,
    catchments: core.config.catchments,
    families: core.familyMatcher,
    logger: core.logger,
    clock: core.clock,
  };
  return { antenatal: (motherNhsNumber, actor, cause) => redecideBookings(deps, motherNhsNumber, actor, cause) };
}

/**
 * The consent-period job (src/processing/consent-periods.ts), in the worker role: every STORK_CONSENT_PERIODS_MS it
 * looks whether the London date changed since the day it last covered (saved in the store), and if so decides again
 * the families whose consent records' periods started or ended since. Several workers may run it at once: each
 * family is decided under its register locks and deciding again is idempotent.
 */
function startConsentPeriods(core: Core, opened: ResourceStack): void {
  const { config, logger, clock } = core;
  const deps = {
    register: new SqlConsentRegister(core.db, core.dataCipher),
    replan: (record: BirthNotification, consent: ConsentInput) => planDelivery(record, '', config.agreements, config.catchments, consent),
    clock,
    logger,
    ...bookingsRedecided(core, core.db),
  };
  const job = new Periodic(
    core.env.consentPeriodsMs,
    async () => {
      await runConsentPeriods(deps);
    },
    (err) =>
      logger.error({ err: errorCode(err) ?? (err instanceof Error ? err.name : 'error') }, 'consent-period job failed; it runs again'),
  );
  job.start();
  opened.add('consent-period job', () => job.stop());
}

/**
 * Event, then fetch, and polling (issue 10 item 4), in the worker role: one FHIR server client per feed with a
 * `fetch` block, the fetcher working through stored signal events, and a poller per feed with `fetch.poll`. They
 * store what they fetch through a receipt path of their own (the main pool; processing jobs queued after each
 * commit). Stopped first on shutdown (each finishes the record in hand), then the receipts drained, then the
 * servers' connections closed.
 */
function startFetching(core: Core, opened: ResourceStack): void {
  const { env, config, logger, queues, clock } = core;
  const feeds = config.feeds.fhirFeeds.filter((f): f is FhirFeedConfig & { fetch: FhirFetchSettings } => f.fetch !== undefined);
  if (feeds.length === 0) return;
  const servers = new Map<string, FhirServer>();
  for (const feed of feeds) {
    const tokenEnv = feed.fetch.tokenEnv;
    const token = tokenEnv !== undefined ? env.secret(tokenEnv) : undefined;
    if (tokenEnv !== undefined && token === undefined)
      throw new ConfigError(`FHIR feed "${feed.id}" field fetch.tokenEnv: the environment variable ${tokenEnv} is not set`);
    const server = new FhirKitServer({ feedId: feed.id, settings: feed.fetch, logger, ...(token !== undefined ? { token } : {}) });
    servers.set(feed.id, server);
    opened.add(`FHIR server of ${feed.id}`, () => server.close());
  }
  const committer = new ReceiptCommitter({ store: core.messages, processingJobs: queues, logger });
  opened.add('fetched records', () => committer.drained());
  const receipts = { committer, logger, clock, counts: core.internalErrors };
  const fetcher = new EventFetcher({
    ...receipts,
    feeds: config.feeds,
    mappings: config.fhirMappings,
    store: core.fetchStore,
    servers,
    intervalMs: env.eventFetchIntervalMs,
    leaseMs: 120_000,
    maxAttempts: env.eventFetchMaxAttempts,
  });
  fetcher.start();
  core.nudgeFetcher = () => fetcher.nudge();
  opened.add('event fetcher', () => fetcher.stop());
  const owner = `${env.queuePrefix}:${process.pid}:${randomUUID()}`;
  for (const feed of feeds) {
    const poll = feed.fetch.poll;
    const server = servers.get(feed.id);
    if (poll === undefined || server === undefined) continue;
    const poller = new FeedPoller({
      ...receipts,
      feed: { ...feed, fetch: { ...feed.fetch, poll } },
      mapping: config.fhirMappings.get(feed.mapping),
      server,
      store: core.fetchStore,
      owner,
    });
    poller.start();
    opened.add(`FHIR poller of ${feed.id}`, () => poller.stop());
  }
  logger.info({ feeds: feeds.length, polled: feeds.filter((f) => f.fetch.poll).length }, 'fetching from FHIR servers');
}

/** The intake part: HL7 v2 intake over MLLP and the HTTP API. Closing it stops accepting and finishes the messages in flight. */
async function startIntakeRole(
  core: Core,
  opened: ResourceStack,
  mesh: readonly MeshMailboxSettings[],
): Promise<{ httpPort: number; mllpPort: number; receiveNems: NonNullable<Hub['receiveNems']>; apps: NonNullable<Hub['apps']> }> {
  const { env, config, logger, queues, mapper, clock } = core;
  const counts = core.internalErrors;
  const limits = { maxSegments: env.hl7MaxSegments, maxRepetitions: env.hl7MaxRepetitions };
  // A pool per purpose (issue 8): intake's receipt path and the API have their own connections, so readers
  // cannot starve intake; the workers, recovery and readiness keep the main pool.
  const pools = await openPurposePools({
    main: core.db,
    intakeConnections: INTAKE_CONCURRENT_BATCHES + 1,
    apiConnections: env.apiDbConnections,
    ...(env.databaseUrl ? { databaseUrl: env.databaseUrl } : {}),
  });
  opened.add('intake and API pools', () => pools.close());
  const intakeMessages = new SqlMessageStore(pools.intake, core.dataCipher);
  const apiMessages = new SqlMessageStore(pools.api, core.dataCipher);
  // One receipt path (group commit on intake's own pool) for HL7 v2 and FHIR alike.
  const committer = new ReceiptCommitter({ store: intakeMessages, processingJobs: queues, logger });
  const intake = new Hl7v2Intake({
    feeds: config.feeds,
    mapper,
    store: intakeMessages,
    processingJobs: queues,
    logger,
    clock,
    counts,
    limits,
    committer,
    metrics: core.metrics,
  });
  const fhirIntake = new FhirIntake({
    feeds: config.feeds,
    mappings: config.fhirMappings,
    committer,
    logger,
    clock,
    counts,
    maxBytes: env.mllpMaxMessageBytes,
    metrics: core.metrics,
    triggers: config.triggers.all,
  });
  const eventIntake = new EventIntake({
    feeds: config.feeds,
    store: new SqlFhirFetchStore(pools.intake, core.dataCipher),
    logger,
    clock,
    onAccepted: () => core.nudgeFetcher?.(),
  });
  const fhirCapability = capabilityStatement({
    at: clock(),
    version: STORK_VERSION,
    events: config.feeds.fhirFeeds.flatMap((f) => {
      const file = config.fhirMappings.get(f.mapping).file;
      return [
        ...file.events,
        ...(file.attendances?.events ?? []),
        ...(file.antenatal?.bookingEvents ?? []),
        ...(file.antenatal?.lossEvents ?? []),
      ];
    }),
  });
  const replay: ReplayDeps = {
    store: apiMessages,
    processingJobs: queues,
    feeds: config.feeds,
    mapper,
    fhirMappings: config.fhirMappings,
    fhirMaxBytes: env.mllpMaxMessageBytes,
    triggers: config.triggers.all,
    clock,
    logger,
    counts,
    limits,
    apiClient: (id) => config.apiClients.clients.find((c) => c.id === id),
    issuerConfigured: (id) => config.apiClients.issuers.some((i) => i.id === id),
  };
  const apiNotifications = new SqlNotificationStore(pools.api, core.dataCipher);
  const familyView = new SqlFamilyViewStore(pools.api, core.dataCipher);
  // Requests refused for a missing or unknown key, and failed web sign-ins: audited, at most one event a minute per kind.
  const signInFailures = new SignInFailureAudit(new SqlAuditLog(pools.api, core.dataCipher), logger, clock);
  // The consent register on the API's pool; a consent re-decides the family's notifications as processing would.
  const consents: ConsentDeps = {
    register: new SqlConsentRegister(pools.api, core.dataCipher),
    replan: (record, consent) => planDelivery(record, '', config.agreements, config.catchments, consent),
    clock,
    // A consent to antenatal contact recorded or withdrawn after her booking delivers or withdraws it now (issue 17 follow-up).
    ...bookingsRedecided(core, pools.api),
  };
  const web = webApp(core, pools.api, { notifications: apiNotifications, families: familyView, consents }, replay, signInFailures);
  const app = createHttpApp({
    signInFailures,
    ...(web ? { web: web.app } : {}),
    logger,
    apiClients: config.apiClients,
    ...(config.apiClients.issuers.length > 0 ? { tokens: new JwtVerifier(config.apiClients) } : {}),
    metrics: core.metrics,
    readiness: readiness(core),
    maxMessageBytes: env.mllpMaxMessageBytes,
    clientConcurrency: env.apiClientConcurrency,
    rateLimit: { perSecond: env.httpRatePerSecond, burst: env.httpRateBurst },
    intake,
    fhirIntake,
    eventIntake,
    fetchStore: new SqlFhirFetchStore(pools.api, core.dataCipher),
    fhirCapability,
    families: {
      families: new SqlFamilyStore(pools.api, core.dataCipher),
      blockingKeys: (p) => core.familyMatcher.blockingKeys(p),
      centreIds: new Set(config.catchments.centres.keys()),
      maxImportBytes: MAX_IMPORT_BYTES,
      reviewDecided: (id) => reviewDecided(core, id),
    },
    messages: apiMessages,
    notifications: apiNotifications,
    antenatal: new SqlAntenatalInbox(pools.api, core.dataCipher),
    familyView,
    audit: new SqlAuditLog(pools.api, core.dataCipher),
    verifyAudit: () => verifyAuditChain(pools.api, { publicKeys: core.auditKeys.publicKeys }),
    replay,
    consents,
    // A feed client's scope: an HL7 v2 sending facility (its feeds), or a FHIR or NEMS feed's id (that feed).
    explainDecision: explainer(core, pools.api),
    webhooks: {
      store: new SqlWebhookStore(pools.api, core.dataCipher),
      centreIds: new Set(core.webhookCentres),
      clock,
      nudge: () => core.nudgeWebhooks?.(),
    },
    igReports: {
      source: new SqlIgReports(pools.api, core.dataCipher),
      counts: new SqlIgReports(pools.api, core.dataCipher),
      audit: new SqlAuditLog(pools.api, core.dataCipher),
      catchments: config.catchments,
      clock,
    },
    offerOutcomes: { outcomes: new SqlOfferOutcomeStore(pools.api), catchments: config.catchments, clock },
    feedIdsForFacility: (scope) => [
      ...config.feeds.feeds.filter((f) => f.sendingFacility === scope).map((f) => f.id),
      ...config.feeds.fhirFeeds.filter((f) => f.id === scope).map((f) => f.id),
      ...config.feeds.nemsFeeds.filter((f) => f.id === scope).map((f) => f.id),
    ],
  });
  const mllp = new MllpListener(
    intake,
    {
      host: env.host,
      port: env.mllpPort,
      maxMessageBytes: env.mllpMaxMessageBytes,
      idleTimeoutMs: env.mllpIdleTimeoutMs,
      frameTimeoutMs: env.mllpFrameTimeoutMs,
      maxConnections: env.mllpMaxConnections,
      maxConnectionsPerAddress: env.mllpMaxConnectionsPerAddress,
      maxBufferedBytes: env.mllpMaxBufferedBytes,
      ...(env.mllpTls ? { tls: readTls('MLLP', env.mllpTls) } : {}),
    },
    logger,
  );
  const server = createHttpServer(app, logger, httpTls(env), httpTimeouts(env));
  // Both listeners stop accepting at once; then the messages in flight are committed and acknowledged.
  opened.add('intake', async () => {
    const httpClosed = closeServer(server);
    await mllp.close();
    await committer.drained(); // HL7 v2 and FHIR messages alike
    await httpClosed;
  });
  const mllpPort = await bound('MLLP', 'STORK_MLLP_PORT', env.host, env.mllpPort, () => mllp.start());
  const httpPort = await bound('HTTP', 'STORK_HTTP_PORT', env.host, env.httpPort, () => listen(server, env.httpPort, env.host));
  if (web) await web.ready(httpPort, opened);
  logger.info(
    {
      httpPort,
      mllpPort,
      feeds: config.feeds.feeds.length,
      fhirFeeds: config.feeds.fhirFeeds.length,
      centres: config.catchments.centres.size,
    },
    'intake listening',
  );
  const receiveNems: NonNullable<Hub['receiveNems']> = async ({ feedId, ...n }) => {
    const feed = config.feeds.nemsById(feedId);
    if (!feed) throw new Error(`no NEMS feed named ${feedId}`);
    return fhirIntake.receiveNems({ ...n, feed });
  };
  // Opened after the listeners, so stopped before intake drains: a poll in flight is aborted first.
  for (const m of mesh) startMeshPoller(m, core, opened, receiveNems);
  return { httpPort, mllpPort, receiveNems, apps: { api: app, ...(web ? { web: web.app } : {}) } };
}

/**
 * The web app, if the configuration has one (`mappings/web-app.json`): its sessions in the store, its sign-in
 * endpoint known once HTTP is bound (the redirect URI names the port) and, with STORK_LOCAL_OIDC=on, the local
 * OpenID provider started with the demo users.
 */
function webApp(
  core: Core,
  apiDb: Database,
  centre: { notifications: SqlNotificationStore; families: SqlFamilyViewStore; consents: ConsentDeps },
  replay: ReplayDeps,
  signInFailures: SignInFailureAudit,
): { app: express.Express; ready: (httpPort: number, opened: ResourceStack) => Promise<void> } | undefined {
  const { env, config, logger } = core;
  const web = config.webApp;
  if (!web) {
    if (env.localOidc)
      throw new ConfigError('STORK_LOCAL_OIDC=on needs a web app: mappings/web-app.json is missing from the configuration folder');
    return undefined;
  }
  if (env.localOidc && !web.localProvider)
    throw new ConfigError('STORK_LOCAL_OIDC=on needs demo users: mappings/web-app.json has no localProvider section');
  let resolveEndpoint: (e: SignInEndpoint) => void = () => undefined;
  const endpoint = new Promise<SignInEndpoint>((resolve) => (resolveEndpoint = resolve));
  const inboxes = new Set([...inboxIds(config.catchments), ...config.triggers.inboxes.keys()]);
  const app = createWebApp({
    logger,
    config: web,
    sessions: new SqlWebSessionStore(apiDb, core.dataCipher),
    signInEndpoint: () => endpoint,
    secure: env.publicUrl?.startsWith('https:') === true,
    inboxIds: inboxes,
    inboxName: (id) => config.catchments.centres.get(id)?.name,
    pages: (kit) => {
      const consentPages = householdConsentPages(kit, {
        families: centre.families,
        consents: centre.consents,
        localAuthorities: (id) => centreLocalAuthorities(config.catchments, id),
        laName: (id) => localAuthorityName(config.catchments, id),
      });
      // The offer-of-support loop (issue 15 item 3): outcomes on the worklist and household pages, and the reach page.
      const loop = {
        outcomes: new SqlOfferOutcomeStore(apiDb),
        targetDays: (centreId: string) => contactTargetDays(config.catchments, centreId),
      };
      return [
        centrePages(kit, centre.notifications, loop),
        expectingPages(kit, new SqlAntenatalStore(apiDb, core.dataCipher)),
        householdPages(kit, centre.families, consentPages.section, loop),
        reachPages(kit, { outcomes: loop.outcomes, catchments: config.catchments }),
        consentPages,
        ...auditAndOperationsPages(core, kit, apiDb, replay),
        consentHistoryPages(kit, { consents: centre.consents, laName: (id) => localAuthorityName(config.catchments, id) }),
        earlyHelpPages(kit, {
          triggers: new SqlTriggerStore(apiDb, core.dataCipher),
          audit: new SqlAuditLog(apiDb, core.dataCipher),
          queueName: (id) => config.triggers.inboxes.get(id),
        }),
        triggerPages(kit, {
          triggers: new SqlTriggerStore(apiDb, core.dataCipher),
          config: config.triggers,
          audit: new SqlAuditLog(apiDb, core.dataCipher),
          laName: (id) => localAuthorityName(config.catchments, id),
        }),
      ];
    },
    clock: core.clock,
    signInFailures,
  });
  return {
    app,
    ready: async (httpPort, opened) => {
      const publicUrl = env.publicUrl ?? `${env.httpTls ? 'https' : 'http'}://127.0.0.1:${httpPort}`;
      const redirectUri = `${publicUrl}/app/auth/callback`;
      const postLogoutRedirectUri = `${publicUrl}/app/signed-out`;
      if (env.localOidc && web.localProvider) {
        // Loaded only when asked for: production never loads the demo provider (nor hears its runtime warnings).
        const { startLocalProvider } = await import('../adapters/oidc/local-provider.js');
        const local = await bound('local OpenID provider', 'STORK_LOCAL_OIDC_PORT', '127.0.0.1', env.localOidcPort, async () => {
          const p = await startLocalProvider({
            port: env.localOidcPort,
            clientId: web.oidc.clientId,
            redirectUri,
            postLogoutRedirectUri,
            scopes: web.oidc.scopes,
            claims: web.oidc.claims,
            users: web.localProvider?.users ?? [],
            logger,
          });
          opened.add('local OpenID provider', () => p.close());
          resolveEndpoint({ issuer: p.issuer, clientSecret: p.clientSecret, redirectUri, postLogoutRedirectUri });
          return Number(new URL(p.issuer).port);
        });
        logger.info({ port: local }, 'web app signs in with the local OpenID provider');
        return;
      }
      if (env.oidcClientSecret === undefined)
        logger.warn('web app: STORK_OIDC_CLIENT_SECRET is not set, so nobody can sign in (or set STORK_LOCAL_OIDC=on to try it)');
      resolveEndpoint({
        issuer: web.oidc.issuer,
        redirectUri,
        postLogoutRedirectUri,
        ...(env.oidcClientSecret !== undefined ? { clientSecret: env.oidcClientSecret } : {}),
      });
    },
  };
}

/** One NEMS feed's MESH mailbox: a client of its own (certificates, credentials) and a poller storing into the feed's intake. */
function startMeshPoller(m: MeshMailboxSettings, core: Core, opened: ResourceStack, receiveNems: NonNullable<Hub['receiveNems']>): void {
  const client = new MeshClient({
    baseUrl: m.url,
    credentials: { mailbox: m.mailbox, password: m.password, sharedKey: m.sharedKey },
    ...(m.tls ? { tls: m.tls } : {}),
    maxMessageBytes: core.env.mllpMaxMessageBytes,
    maxChunks: m.maxChunks,
    requestTimeoutMs: m.requestTimeoutMs,
    clientVersion: `stork/${STORK_VERSION}`,
  });
  opened.add(`MESH client of ${m.feedId}`, () => {
    client.close();
    return Promise.resolve();
  });
  const poller = new MeshPoller({
    feedId: m.feedId,
    mailbox: client,
    workflowIds: m.workflowIds,
    logger: core.logger,
    intervalMs: m.pollIntervalMs,
    clock: core.clock,
    receive: async ({ bytes, meshMessageId, oversize }) => {
      const r = await receiveNems({ bytes, feedId: m.feedId, channel: 'mesh', meshMessageId, ...(oversize ? { oversize } : {}) });
      return {
        stored: r.stored,
        duplicate: r.duplicate,
        ...(r.messageId !== undefined ? { messageId: r.messageId } : {}),
        ...(r.status !== undefined ? { status: r.status } : {}),
      };
    },
  });
  poller.start();
  opened.add(`MESH poller of ${m.feedId}`, () => poller.stop());
  core.logger.info(
    { feed: m.feedId, mailbox: m.mailbox, workflowIds: m.workflowIds, intervalMs: m.pollIntervalMs },
    'MESH mailbox polling',
  );
}

/** The IG lead's audit pages and the operators' console (issue 11 items 3 and 4), on the API's pool. */
function auditAndOperationsPages(core: Core, kit: PageKit, apiDb: Database, replay: ReplayDeps): WebPages[] {
  const { config, queues } = core;
  const audit = new SqlAuditLog(apiDb, core.dataCipher);
  const inboxes = inboxIds(config.catchments);
  const inboxName = (id: string): string | undefined => config.catchments.centres.get(id)?.name;
  const feeds = [...config.feeds.feeds, ...config.feeds.fhirFeeds, ...config.feeds.nemsFeeds].map((f) => ({ id: f.id, name: f.name }));
  return [
    igPages(kit, {
      audit,
      centres: inboxes.map((id) => ({ id, name: inboxName(id) ?? id })),
      feeds,
      rules: ruleChoices(config),
      names: {
        inboxName,
        feedName: (id) => feeds.find((f) => f.id === id)?.name,
        ruleDescription: (id) => ruleDescription(config, id),
      },
    }),
    agreementPages(kit, {
      audit,
      explain: explainer(core, apiDb),
      agreements: [...config.agreements.byId.values()],
      localAuthorities: config.catchments.localAuthorities.map((la) => ({ id: la.id, name: la.name })),
      simulate: (scope, since) => simulateAgreement(new SqlDecisionHistory(apiDb, core.dataCipher), scope, since),
      inboxName,
      inForce: agreementsInForce(config, (id) => localAuthorityName(config.catchments, id)),
    }),
    operatorPages(kit, {
      messages: new SqlMessageStore(apiDb, core.dataCipher),
      audit,
      replay,
      queues: { depths: () => queues.depths(inboxes) },
      feeds,
      webhooks: {
        store: new SqlWebhookStore(apiDb, core.dataCipher),
        centres: core.webhookCentres.map((id) => ({ id, name: inboxName(id) ?? id })),
        nudge: () => core.nudgeWebhooks?.(),
      },
    }),
    reviewPages(kit, { families: new SqlFamilyStore(apiDb, core.dataCipher), audit, reviewDecided: (id) => reviewDecided(core, id) }),
    reportPages(kit, {
      source: new SqlIgReports(apiDb, core.dataCipher),
      counts: new SqlIgReports(apiDb, core.dataCipher),
      audit,
      catchments: config.catchments,
      feedName: (id) => feeds.find((f) => f.id === id)?.name,
      ruleDescription: (id) => ruleDescription(config, id),
    }),
    // Read-only: administrators look at jobs (ids only) but retry, clean or remove nothing there.
    queueDashboard(
      kit,
      queues.all(inboxes).map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
    ),
  ];
}

/** A decided review's job leaves the match-review queue; the decision is already committed, so a failure is only logged. */
async function reviewDecided(core: Core, reviewId: string): Promise<void> {
  try {
    await core.queues.reviewDecided(reviewId);
  } catch (err) {
    core.logger.warn({ reviewId, err: errorCode(err) }, 'decided review left in the match-review queue');
  }
}

/** Every rule of every agreement (one entry per rule id, the first description found), for the IG lead's search. */
function ruleChoices(config: HubConfig): { id: string; description: string }[] {
  const seen = new Map<string, string>();
  for (const a of [config.agreements.default, ...config.agreements.byId.values()])
    for (const r of a.rules) if (!seen.has(r.id)) seen.set(r.id, r.description);
  return [...seen].map(([id, description]) => ({ id, description })).sort((a, b) => a.id.localeCompare(b.id));
}

/** A rule's description: the default agreement's rule of that id, else the first agreement's that has one. */
function ruleDescription(config: HubConfig, id: string): string | undefined {
  const agreements = [config.agreements.default, ...config.agreements.byId.values()];
  for (const a of agreements) {
    const rule = a.rules.find((r) => r.id === id);
    if (rule !== undefined) return rule.description;
  }
  return undefined;
}

/** Explains a notification's decision, on the API's pool (GET /v1/notifications/{id}/decision and the IG pages). */
function explainer(core: Core, apiDb: Database) {
  const history = new SqlDecisionHistory(apiDb, core.dataCipher);
  return (id: string) => explainNotification({ history, versions: history, agreements: core.config.agreements }, id);
}

/** The HTTP listeners' slow-client deadlines (STORK_HTTP_*_TIMEOUT_MS). */
function httpTimeouts(env: EnvConfig): HttpTimeouts {
  return {
    headersTimeoutMs: env.httpHeadersTimeoutMs,
    requestTimeoutMs: env.httpRequestTimeoutMs,
    keepAliveTimeoutMs: env.httpKeepAliveTimeoutMs,
  };
}

/** A worker-only process serves /healthz and /readyz alone, for its orchestrator's probes. */
async function startHealthOnly(core: Core, opened: ResourceStack): Promise<{ httpPort: number }> {
  const { env } = core;
  const server = createHttpServer(
    express()
      .disable('x-powered-by')
      .use(healthRoutes(readiness(core)))
      .use(
        metricsRoutes(core.metrics, core.config.apiClients, {
          logger: core.logger,
          ...(core.config.apiClients.issuers.length > 0 ? { tokens: new JwtVerifier(core.config.apiClients) } : {}),
        }),
      ),
    core.logger,
    httpTls(env),
    httpTimeouts(env),
  );
  opened.add('HTTP server', () => closeServer(server));
  const httpPort = await bound('HTTP', 'STORK_HTTP_PORT', env.host, env.httpPort, () => listen(server, env.httpPort, env.host));
  core.logger.info({ httpPort }, 'health endpoints listening');
  return { httpPort };
}

/**
 * This process's metrics: label values bounded by the configuration's feed, rule and inbox ids; queue depths read
 * at scrape time from Redis (at most 1 s, so a slow Redis cannot hang a scrape).
 */
function processMetrics(config: HubConfig, queues: BullmqQueues): PrometheusMetrics {
  const inboxes = inboxIds(config.catchments);
  const agreements = [config.agreements.default, ...config.agreements.byId.values()];
  return new PrometheusMetrics({
    ids: {
      feeds: new Set([...config.feeds.feeds, ...config.feeds.fhirFeeds, ...config.feeds.nemsFeeds].map((f) => f.id)),
      rules: new Set(agreements.flatMap((a) => a.rules.map((r) => r.id))),
      deadLetterSources: new Set(inboxes),
    },
    queueDepths: () => queues.depths(inboxes),
    queueDepthTimeoutMs: 1000,
  });
}

function readiness(core: Core): { name: string; check: () => Promise<void> }[] {
  return [
    {
      name: 'store',
      check: async () => {
        await core.db.query('SELECT 1');
      },
    },
    {
      name: 'redis',
      check: async () => {
        await core.producer.ping();
      },
    },
  ];
}

/** One coalescer per inbox: its delivery queue's concurrent jobs become one batch; inboxes never wait for each other. */
function deliverByInbox(
  deliver: (inboxId: string, ids: readonly string[]) => Promise<void>,
  maxJobsPerBatch: number,
): (inboxId: string, ids: readonly string[]) => Promise<void> {
  const perInbox = new Map<string, (ids: readonly string[]) => Promise<void>>();
  return (inboxId, ids) => {
    let run = perInbox.get(inboxId);
    if (run === undefined) {
      run = coalesceJobs((batch) => deliver(inboxId, batch), { maxJobsPerBatch, maxConcurrentBatches: 1 });
      perInbox.set(inboxId, run);
    }
    return run(ids);
  };
}

/** Reads a listener's certificate files; one that cannot be read stops start-up naming its setting. */
function readTls(
  what: 'MLLP' | 'HTTP',
  files: { certFile: string; keyFile: string; clientCaFile?: string },
): { cert: Buffer; key: Buffer; ca?: Buffer } {
  const read = (file: string, setting: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`${setting}: cannot read ${file} (${errorCode(err) ?? 'error'})`);
    }
  };
  return {
    cert: read(files.certFile, `STORK_${what}_TLS_CERT_FILE`),
    key: read(files.keyFile, `STORK_${what}_TLS_KEY_FILE`),
    ...(files.clientCaFile !== undefined ? { ca: read(files.clientCaFile, 'STORK_MLLP_TLS_CLIENT_CA_FILE') } : {}),
  };
}

const httpTls = (env: EnvConfig): { cert: Buffer; key: Buffer } | undefined => (env.httpTls ? readTls('HTTP', env.httpTls) : undefined);

/** Binds a listener; a port already taken (or not allowed) stops start-up naming the listener, the address and the setting. */
async function bound(what: string, setting: string, host: string, port: number, start: () => Promise<number>): Promise<number> {
  try {
    return await start();
  } catch (err) {
    const code = errorCode(err);
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const why =
        code === 'EADDRINUSE'
          ? 'is already in use'
          : code === 'EACCES'
            ? 'may not be used by this process'
            : 'is not an address of this machine';
      throw new ConfigError(
        `The ${what} port ${host}:${port} ${why} (${code}). Stop the other process or set ${setting} (and STORK_HOST).`,
      );
    }
    throw err;
  }
}

/** Listens and returns the port actually bound (the configured one, or the one chosen for port 0). */
async function listen(server: HttpServer, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/** Stops accepting and waits for the open requests to finish (idle keep-alive connections are closed at once). */
async function closeServer(server: HttpServer): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
}

async function quit(redis: RedisClient): Promise<void> {
  await redis.quit().catch(() => redis.disconnect());
}

/** The local authorities a centre's records may name as recipient: its own (an unallocated inbox's, by its id). */
function centreLocalAuthorities(catchments: Catchments, inboxId: string): string[] {
  const centre = catchments.centres.get(inboxId);
  if (centre) return [centre.localAuthorityId];
  const la = catchments.localAuthorities.find((l) => unallocatedInbox(l.id) === inboxId);
  return la ? [la.id] : [];
}

function localAuthorityName(catchments: Catchments, id: string): string | undefined {
  return catchments.localAuthorities.find((l) => l.id === id)?.name;
}
