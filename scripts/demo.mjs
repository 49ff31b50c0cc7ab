// `npm run demo` (after `npm run build`): the demo world of server/demo, with generated patients from the
// benchmarks' generator (bench/generate). The two meet here, so that the server's code never imports bench/.
//
//   npm run demo -- [--patients N] [--force]        (npm run demo -- --help says more; docs/DEMO.md)
import { generateBundles, layoutOf } from '../bench/generate/bundles.mjs';
import { runDemoCommand } from '../dist/server/demo/command.js';

/**
 * The generator's patients in the demo's organizations, which the demo writes itself: small staffs of generated
 * colleagues, no privacy contacts among them (override notices go to the world's privacy-contact alone), and no
 * made-up audit history (the trail holds only what happened).
 */
function population({ patients, host, partners }) {
  const layout = layoutOf({ host, partners, hostStaff: 8, partnerStaff: 6, privacyContacts: false, organizations: false });
  return generateBundles({ patients, layout, audit: false });
}

process.exit(await runDemoCommand(process.argv.slice(2), population));
