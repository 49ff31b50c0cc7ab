import { r4Definitions } from '../conformance/definitions.js';
import { createTerminology, type Terminology } from './service.js';

let shared: Terminology | undefined;

/**
 * The process's terminology over the R4 core and the CCP guide, created on first use rather than when the server
 * starts: loading the definitions takes a few hundred milliseconds, and most processes never need them.
 */
export function sharedTerminology(): Terminology {
  const real = (): Terminology => (shared ??= createTerminology(r4Definitions()));
  return {
    validateCode: (...args) => real().validateCode(...args),
    validateCodeInValueSet: (...args) => real().validateCodeInValueSet(...args),
    validateCodeInCodeSystem: (...args) => real().validateCodeInCodeSystem(...args),
    expand: (...args) => real().expand(...args),
    lookup: (...args) => real().lookup(...args),
    knowsCodeSystem: (...args) => real().knowsCodeSystem(...args),
    subsumes: (...args) => real().subsumes(...args),
    valueSet: (...args) => real().valueSet(...args),
  };
}
