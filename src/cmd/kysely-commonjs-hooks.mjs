// Module resolution hook for `stratus` (both threads of `stratus up`): Kysely through its
// CommonJS build. Its ES build is ~260 modules and, under tsx, each one is a round trip to the
// loader's hooks thread (about 0.4 s of CPU per thread at start-up); the CommonJS build is
// required in-thread. Registered before anything loads Kysely, so every importer in the thread
// gets the same (CommonJS) copy and the two builds never mix.
export async function resolve(specifier, context, next) {
  if (specifier !== 'kysely') return next(specifier, context);
  const conditions = context.conditions.filter((c) => c !== 'import');
  return next(specifier, { ...context, conditions: [...conditions, 'require'] });
}
