// The browser build of fhirclient, "pure" (no polyfills: the browsers we serve have fetch and WebCrypto), sets
// window.FHIR; it has no typings of its own, the library's are those of its entry point.
declare module 'fhirclient/build/fhir-client.pure.min.js';
