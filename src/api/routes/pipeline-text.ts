import type { Api } from './context.js';

/** The media types a pipeline file may be sent as; JSON is read as text too, so its problems keep their line and column. */
export const PIPELINE_MEDIA_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain', 'application/json'];

/** In this (encapsulated) scope, bodies are pipeline files: kept as text for the loader, whatever their type. */
export function readBodiesAsText(api: Api): void {
  api.removeAllContentTypeParsers();
  api.addContentTypeParser(PIPELINE_MEDIA_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));
}
