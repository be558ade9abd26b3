// The ES-module side of the route table's Hono part (hono.cjs): registered by
// index.cjs where the app has Hono, this load hook adds the recorder to the end of
// Hono's hono-base module as Node reads it; every other module loads untouched.
import hono from './hono.cjs';

export async function load(url, context, nextLoad) {
  const loaded = await nextLoad(url, context);
  try {
    if (loaded.source != null && url.startsWith('file:') && hono.HONO_BASE.test(url)) {
      const text = typeof loaded.source === 'string'
        ? loaded.source : Buffer.from(loaded.source).toString('utf8');
      return { ...loaded, source: text + hono.RECORDER };
    }
  } catch (error) { /* as it is */ }
  return loaded;
}
