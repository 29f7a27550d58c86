// The books operations' bodies and replies, for the client: they live in core/wire/books-bodies.ts, shared
// with the gateway's HTTP/JSON API.

export * from '../core/wire/books-bodies.js';
