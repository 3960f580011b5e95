// The params map (query, form and route params). Small and stateless, so each entry
// point that needs it (httpkit/router, httpkit/middleware) carries its own copy.

/** Params map: a repeated key collects its values in an array, in order. */
export type ParamMap = Record<string, string | string[]>;

// Maps of client-chosen keys need a prototype without properties, so `__proto__`,
// `constructor` or `toString` are plain data. `new` on a function whose prototype is
// such an object keeps the maps in V8's fast mode (Object.create(null) does not).
const ParamMapCtor = function ParamMap() {} as unknown as new () => ParamMap;
(ParamMapCtor as unknown as { prototype: object }).prototype = Object.freeze(Object.create(null));

/** An empty params map whose keys are all plain data (no inherited properties). */
export function newParamMap(): ParamMap {
  return new ParamMapCtor();
}
