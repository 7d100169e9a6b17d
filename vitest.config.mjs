// Vitest runs only the spec's "Unit Testing" example; the project's own tests use node:test (`npm test`).
export default { test: { include: ['examples/**/*.spec.ts'] } };
