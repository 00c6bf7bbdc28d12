import { readFileSync } from 'node:fs';

import { type TestResult, parseGuideline, parseRun, summarize, untagged } from './results.js';

const guideline = parseGuideline(
  [
    '# a comment',
    'compute-flavors-list\ttempest.api.compute.flavors.test_flavors.FlavorsV2TestJSON.test_list_flavors[id-e36c,smoke]',
    'compute-servers-lock\ttempest.api.compute.servers.test_server_actions.ServerActionsTestJSON.test_lock_unlock_server[id-80a8]',
    'compute-servers-stop\ttempest.api.compute.servers.test_server_actions.ServerActionsTestJSON.test_stop_start_server[id-af8e]',
    'images-v2-get\ttempest.api.image.v2.test_images_negative.ImagesNegativeTest.test_get_image_null_id[id-ef45,negative]',
    'compute-volume-attach\ttempest.api.compute.volumes.test_attach_volume.AttachVolumeTestJSON.test_attach_detach_volume[id-52e9]',
    'compute-list-by-ip\ttempest.api.compute.servers.test_list_server_filters.ListServerFiltersTestJSON.test_list_servers_filtered_by_ip[id-43a1]',
    'identity-tokens\ttempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token[id-6f8e]',
    '',
  ].join('\n'),
);

/** Tempest 33's console output, as `tempest run` prints it (trimmed). */
const OUTPUT = `{0} tempest.api.compute.flavors.test_flavors.FlavorsV2TestJSON.test_list_flavors [0.013704s] ... ok
{0} tempest.api.compute.servers.test_server_actions.ServerActionsTestJSON.test_lock_unlock_server [0.311s] ... FAILED

Captured traceback:
~~~~~~~~~~~~~~~~~~~
    Traceback (most recent call last):

      File "/usr/lib/python3/dist-packages/tempest/lib/common/rest_client.py", line 831, in _error_checker
    raise exceptions.BadRequest(resp_body, resp=resp)

    tempest.lib.exceptions.BadRequest: Bad request
Details: {'code': 400, 'message': 'There is no such action: lock'}


Captured pythonlogging:
~~~~~~~~~~~~~~~~~~~~~~~
    2026-12-06 04:59:14,205 12788 DEBUG    [urllib3.connectionpool] ValueError: not this one
{1} tempest.api.image.v2.test_images_negative.ImagesNegativeTest.test_get_image_null_id [0.002061s] ... FAILED

Captured traceback:
~~~~~~~~~~~~~~~~~~~
    Traceback (most recent call last):
      File "/usr/lib/python3/dist-packages/testtools/testcase.py", line 480, in assertThat
    raise mismatch_error

    testtools.matchers._impl.MismatchError: show_image returned {'images': []}

{1} tempest.api.compute.servers.test_list_server_filters.ListServerFiltersTestJSON.test_list_servers_filtered_by_ip ... SKIPPED: fixed_network_name needs to be configured to run this test
{0} setUpClass (tempest.api.compute.volumes.test_attach_volume.AttachVolumeTestJSON) ... SKIPPED: AttachVolumeTestJSON skipped as Cinder is not available
{0} tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token [0.03s] ... ok

======
Totals
======
Ran: 5 tests in 34.5 sec.
`;

describe('interop results', () => {
  it('reads every test of the guideline from the run, with the reason of each failure and skip', () => {
    const results = parseRun(OUTPUT, guideline);
    const byTest: Record<string, TestResult> = Object.fromEntries(
      results.map((result) => [untagged(result.name).split('.').pop(), result]),
    );
    expect(byTest['test_list_flavors']).toMatchObject({ outcome: 'passed', reason: null });
    expect(byTest['test_lock_unlock_server']).toMatchObject({
      outcome: 'failed',
      reason: "BadRequest: Bad request {'code': 400, 'message': 'There is no such action: lock'}",
    });
    expect(byTest['test_get_image_null_id']).toMatchObject({
      outcome: 'failed',
      reason: "MismatchError: show_image returned {'images': []}",
    });
    expect(byTest['test_list_servers_filtered_by_ip']).toMatchObject({
      outcome: 'skipped',
      reason: 'fixed_network_name needs to be configured to run this test',
    });
    // A skipped class skips each of its tests.
    expect(byTest['test_attach_detach_volume']).toMatchObject({
      outcome: 'skipped',
      reason: 'AttachVolumeTestJSON skipped as Cinder is not available',
    });
    // A test the run never mentions did not pass.
    expect(byTest['test_stop_start_server']).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(/^not run/),
    });
    expect(summarize(results)).toEqual({
      interopPassed: 2,
      interopFailed: 3,
      interopSkipped: 2,
      interopTotal: 7,
    });
  });

  it('refuses a malformed guideline line rather than dropping a test', () => {
    expect(() => parseGuideline('compute-flavors-list tempest.api.compute.x.test_y\n')).toThrow(/line 1/);
  });

  it('ships the 173 tests of the compute, identity, image and networking capabilities', () => {
    const shipped = parseGuideline(readFileSync(new URL('./guideline-2020.06.tsv', import.meta.url), 'utf8'));
    expect(shipped).toHaveLength(173);
    expect(new Set(shipped.map((test) => test.name)).size).toBe(173);
    expect(shipped.every((test) => /^(compute|identity|images|networks)-/.test(test.capability))).toBe(true);
    expect(shipped.filter((test) => test.capability.startsWith('networks-'))).toHaveLength(64);
  });
});
