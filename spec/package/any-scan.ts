// Finds `any` reachable from a package's public exports, using the TypeScript checker on
// the published .d.ts files: every exported value's type, every signature's parameters
// and return type, every property of an exported class, interface or object type.
import ts from 'typescript';

export interface AnyLeak {
  /** Path from the export, e.g. `httpkit/client.get(0).return.body`. */
  path: string;
}

const MAX_DEPTH = 6;

export function findAnyLeaks(program: ts.Program, entries: Record<string, string>): AnyLeak[] {
  const checker = program.getTypeChecker();
  const leaks: AnyLeak[] = [];
  const seen = new Set<ts.Type>();

  function visit(type: ts.Type, path: string, depth: number): void {
    if (type.flags & ts.TypeFlags.Any) {
      leaks.push({ path });
      return;
    }
    if (depth > MAX_DEPTH || seen.has(type)) return;
    seen.add(type);
    if (type.isUnionOrIntersection()) {
      for (const t of type.types) visit(t, path, depth);
      return;
    }
    // Arguments count wherever the generic comes from: Promise<any>, Record<string, any>.
    type.aliasTypeArguments?.forEach((t, i) => visit(t, `${path}<${i}>`, depth + 1));
    if (!(type.flags & ts.TypeFlags.Object)) return;
    const ref = type as ts.TypeReference;
    if (ref.target && ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) !== 0) {
      const params = ref.target.typeParameters ?? [];
      checker.getTypeArguments(ref).forEach((t, i) => {
        // A parameter left at a default of `any` is the library's choice, not ours:
        // AsyncIterable<Chunk> is AsyncIterable<Chunk, any, any> since TypeScript 5.6.
        const param = params[i];
        const fallback = param ? checker.getDefaultFromTypeParameter(param) : undefined;
        if (t.flags & ts.TypeFlags.Any && fallback && fallback.flags & ts.TypeFlags.Any) return;
        visit(t, `${path}<${i}>`, depth + 1);
      });
    }
    for (const info of checker.getIndexInfosOfType(type)) visit(info.type, `${path}[]`, depth + 1);
    // The members of types from node's or TypeScript's own declarations (Buffer, Socket,
    // Promise...) are not ours to check.
    const decl = type.getSymbol()?.declarations?.[0];
    if (decl && !isOurs(decl.getSourceFile().fileName)) return;
    for (const kind of [ts.SignatureKind.Call, ts.SignatureKind.Construct]) {
      checker.getSignaturesOfType(type, kind).forEach((sig, i) => {
        const name = kind === ts.SignatureKind.Call ? `(${i})` : `new(${i})`;
        for (const p of sig.getParameters()) visit(checker.getTypeOfSymbol(p), `${path}${name}.${p.getName()}`, depth + 1);
        visit(sig.getReturnType(), `${path}${name}.return`, depth + 1);
      });
    }
    for (const prop of checker.getPropertiesOfType(type)) {
      // `#private` stands for ES private fields in .d.ts files: not reachable by users.
      if (prop.getName().startsWith('#')) continue;
      const pd = prop.declarations?.[0];
      if (pd && !isOurs(pd.getSourceFile().fileName)) continue;
      if (pd && ts.getCombinedModifierFlags(pd) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
      visit(checker.getTypeOfSymbol(prop), `${path}.${prop.getName()}`, depth + 1);
    }
  }

  for (const [name, file] of Object.entries(entries)) {
    const sf = program.getSourceFile(file);
    if (!sf) throw new Error(`entry ${name}: ${file} is not in the program`);
    const mod = checker.getSymbolAtLocation(sf);
    if (!mod) throw new Error(`entry ${name}: ${file} is not a module`);
    for (const sym of checker.getExportsOfModule(mod)) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      const path = `${name}.${sym.getName()}`;
      if (target.flags & ts.SymbolFlags.Value) visit(checker.getTypeOfSymbol(target), path, 0);
      if (target.flags & (ts.SymbolFlags.Type)) visit(checker.getDeclaredTypeOfSymbol(target), `${path}:type`, 0);
    }
  }
  return leaks;
}

function isOurs(fileName: string): boolean {
  return !fileName.includes('/node_modules/@types/') && !fileName.includes('/node_modules/typescript/');
}
