/** Turns a JSON pointer (`/name/0/given/1`) under a resource into a FHIRPath location (`Patient.name[0].given[1]`). */
export function pointerToFhirPath(root: string, pointer: string): string {
  let path = root;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
  }
  return path;
}
