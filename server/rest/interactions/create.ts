import { validateResource } from '../../validation/validate-resource.js';
import { versionHeaders, versionUrl } from '../headers.js';
import { withReturnPreference } from '../prefer.js';
import type { Interaction } from '../types.js';

/** `POST [base]/[type]`: the server assigns the id; an id in the body is ignored, as the specification says. */
export const create: Interaction = async (request, { type }, { store, schema }) => {
  const resource = validateResource(schema, request.body, type!);
  const stored = await store.create(resource);
  const headers = versionHeaders(stored, versionUrl(request.baseUrl, stored));
  return withReturnPreference(request.headers.prefer, 201, stored, headers, `Created ${type}/${stored.id}`);
};
