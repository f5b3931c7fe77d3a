import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadHubConfig } from '../../../src/config/hub-config.js';
import { repoRoot } from '../../../src/config/env.js';
import { configError, copySampleConfig } from '../../support/sample-config.js';

function withWebApp(change: (file: Record<string, unknown>) => void): string {
  const dir = copySampleConfig();
  const file = path.join(dir, 'mappings', 'web-app.json');
  const data = JSON.parse(JSON.stringify(loadHubConfig(repoRoot).webApp)) as Record<string, unknown>;
  change(data);
  writeFileSync(file, JSON.stringify(data));
  return dir;
}

describe('The web app configuration (mappings/web-app.json)', () => {
  it('the sample has a demo user per role, each centre worker scoped to a centre', () => {
    const web = loadHubConfig(repoRoot).webApp;
    expect(web?.oidc.scopes).toContain('openid');
    expect(new Set(web?.localProvider?.users.map((u) => u.role))).toEqual(
      new Set(['centre-worker', 'ig-lead', 'operator', 'admin', 'early-help-worker']),
    );
    expect(web?.localProvider?.users.filter((u) => u.role === 'centre-worker').map((u) => u.scope)).toEqual(['osmondthorpe', 'harehills']);
  });

  it('refuses, naming the field: no openid scope, an unknown role, a centre worker without a centre or with an unknown one', () => {
    const dir = withWebApp((d) => {
      const oidc = d.oidc as { scopes: string[] };
      oidc.scopes = ['profile'];
      const users = (d.localProvider as { users: Record<string, unknown>[] }).users;
      users.push({ login: 'zed', name: 'Zed', role: 'centre-worker' });
      users.push({ login: 'yan', name: 'Yan', role: 'centre-worker', scope: 'atlantis' });
    });
    const err = configError(() => loadHubConfig(dir));
    expect(err.problems.join('\n')).toMatch(/web-app\.json: field \/oidc\/scopes: must contain/);
    const roleDir = withWebApp((d) => {
      const users = (d.localProvider as { users: Record<string, unknown>[] }).users;
      users[0] = { ...users[0], role: 'superuser' };
    });
    expect(configError(() => loadHubConfig(roleDir)).problems.join('\n')).toMatch(/field \/localProvider\/users\/0\/role/);
    const scopeDir = withWebApp((d) => {
      const users = (d.localProvider as { users: Record<string, unknown>[] }).users;
      users.push({ login: 'zed', name: 'Zed', role: 'centre-worker' });
      users.push({ login: 'yan', name: 'Yan', role: 'centre-worker', scope: 'atlantis' });
    });
    const problems = configError(() => loadHubConfig(scopeDir)).problems.join('\n');
    expect(problems).toMatch(/users\/6\/scope: a centre worker needs the inbox id/);
    expect(problems).toMatch(/users\/7\/scope: no centre or inbox has id "atlantis"/);
  });

  it('an empty web-app.json is refused naming the missing section; no web-app.json at all means no web app', () => {
    const dir = copySampleConfig();
    const file = path.join(dir, 'mappings', 'web-app.json');
    writeFileSync(file, '{}');
    expect(configError(() => loadHubConfig(dir)).problems.join('\n')).toMatch(/web-app\.json: field \(top level\).*\(oidc\)/);
    rmSync(file);
    const config = loadHubConfig(dir);
    expect(config.webApp).toBeUndefined();
    expect(config.catchments.centres.size).toBeGreaterThan(0);
  });
});
