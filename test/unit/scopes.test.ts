import { covers, grantable, parseResourceScope } from '../../server/access/scopes.js';

describe('SMART scopes', () => {
  it('reads v2 scopes: context, type, permissions in c-r-u-d-s order, and an optional query', () => {
    expect(parseResourceScope('patient/Observation.rs')).toMatchObject({ context: 'patient', resourceType: 'Observation', permissions: ['r', 's'] });
    expect(parseResourceScope('system/*.cruds')).toMatchObject({ context: 'system', resourceType: '*', permissions: ['c', 'r', 'u', 'd', 's'] });
    expect(parseResourceScope('user/Observation.rs?category=laboratory&code=http://loinc.org|1234-5')).toMatchObject({
      query: { category: ['laboratory'], code: ['http://loinc.org|1234-5'] },
    });
  });

  it('reads v1 scopes: read = rs, write = cud, * = cruds', () => {
    expect(parseResourceScope('patient/*.read')?.permissions).toEqual(['r', 's']);
    expect(parseResourceScope('user/CarePlan.write')?.permissions).toEqual(['c', 'u', 'd']);
    expect(parseResourceScope('system/Patient.*')?.permissions).toEqual(['c', 'r', 'u', 'd', 's']);
  });

  it.each(['patient/Observation.sr', 'patient/Observation.rr', 'patient/Observation.x', 'patient/Nothing.rs', 'group/Patient.rs', 'patient/Observation.read?x=1', 'openid', 'launch/patient', 'patient/Observation.rs?'])(
    'does not take %s for a resource scope',
    (text) => expect(parseResourceScope(text)).toBeUndefined(),
  );

  it('covers: same context, the type or *, every permission, and no escape from a restriction', () => {
    const scope = (text: string) => parseResourceScope(text)!;
    expect(covers(scope('system/*.cruds'), scope('system/Patient.rs'))).toBe(true);
    expect(covers(scope('system/Patient.rs'), scope('system/Patient.cruds'))).toBe(false);
    expect(covers(scope('system/Patient.rs'), scope('user/Patient.rs'))).toBe(false);
    expect(covers(scope('system/Observation.rs'), scope('system/Observation.rs?category=laboratory'))).toBe(true);
    expect(covers(scope('system/Observation.rs?category=laboratory'), scope('system/Observation.rs'))).toBe(false);
    expect(covers(scope('system/Observation.rs?category=laboratory'), scope('system/Observation.r?category=laboratory'))).toBe(true);
  });

  it('grantable keeps the requested scopes the allowance covers', () => {
    expect(grantable(['system/Patient.rs', 'system/Encounter.rs', 'system/Patient.cruds'], ['system/Patient.rs', 'system/CarePlan.cruds'])).toEqual(['system/Patient.rs']);
    expect(grantable(['openid', 'offline_access', 'made-up'], ['openid', 'made-up'])).toEqual(['openid']);
  });
});
