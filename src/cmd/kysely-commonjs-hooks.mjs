// Module resolution for stratus up's worker thread: Kysely through its CommonJS build. Its ES
// build is ~260 modules and, under tsx, each one is a round trip to the loader's hooks thread
// (about 0.4 s of CPU at start-up); the CommonJS build is required in-thread. Every importer
// in this thread gets the same (CommonJS) copy, so there is never a mix of the two.
export async function resolve(specifier, context, next) {
  if (specifier !== 'kysely') return next(specifier, context);
  const conditions = context.conditions.filter((c) => c !== 'import');
  return next(specifier, { ...context, conditions: [...conditions, 'require'] });
}
