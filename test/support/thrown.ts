import { FhirError } from '../../server/fhir/outcome.js';

/** The FhirError `fn` throws (fails the test if it throws nothing or something else). */
export function thrown(fn: () => unknown): FhirError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FhirError);
    return error as FhirError;
  }
  throw new Error('expected a FhirError, but nothing was thrown');
}

/** The FhirError `promise` rejects with (fails the test if it resolves, or rejects with something else). */
export async function rejection(promise: Promise<unknown>): Promise<FhirError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FhirError) return error;
    throw error;
  }
  throw new Error('expected a FhirError, but the promise resolved');
}
