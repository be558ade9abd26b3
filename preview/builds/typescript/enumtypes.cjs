// Decorator metadata of an enum-typed member as tsc writes it, for a per-file emit
// (ts.transpileModule), which cannot know a type's name is an enum: joined to transpile.cjs
// (a build's emit) and to tsnodecompiler.cjs (ts-node's): see transpile.py. Functions
// alone, each given the project's TypeScript.

// The node factories the hook below calls take these arguments from TypeScript 4.8 on
// (before it, the metadata stays as the per-file emit writes it).
function factoriesOf48(ts) {
  return parseFloat(ts.versionMajorMinor) >= 4.8 || /^[5-9]\./.test(ts.version);
}

// The project's enums by name: "string" where every member is a string, "number" where
// none is (tsc's String and Number in decorator metadata); a name two enums of different
// kinds share, or an enum of both, is left out (tsc's Object, or not known here).
function projectEnums(ts, sources) {
  const kinds = new Map();
  for (const file of sources) {
    if (!/\.[cm]?tsx?$/.test(file)) continue;
    const text = require("fs").readFileSync(file, "utf8");
    if (!text.includes("enum ")) continue;
    const parsedFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
    const visit = (node) => {
      if (ts.isEnumDeclaration(node)) {
        const strings = node.members.filter((m) => m.initializer && ts.isStringLiteralLike(m.initializer));
        const kind = strings.length === node.members.length && strings.length ? "string"
          : strings.length === 0 ? "number" : "mixed";
        const name = node.name.text;
        kinds.set(name, kinds.has(name) && kinds.get(name) !== kind ? "mixed" : kind);
      } else if (ts.isModuleDeclaration(node) || ts.isModuleBlock(node) || ts.isSourceFile(node)) {
        ts.forEachChild(node, visit);
      }
    };
    visit(parsedFile);
  }
  for (const [name, kind] of kinds) if (kind === "mixed") kinds.delete(name);
  return kinds;
}

// A `before` transformer: the type of a property, parameter, accessor or method's return
// (what decorator metadata is emitted from) naming one of the project's enums, alone or in
// a union, written as the keyword of its kind. Types leave no JavaScript but that metadata.
function enumTypesHook(ts, enumKinds) {
  return (context) => {
    const keyword = (name) =>
      context.factory.createKeywordTypeNode(
        enumKinds.get(name) === "string" ? ts.SyntaxKind.StringKeyword : ts.SyntaxKind.NumberKeyword,
      );
    const asKeyword = (type) => {
      if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName) && !type.typeArguments) {
        return enumKinds.has(type.typeName.text) ? keyword(type.typeName.text) : type;
      }
      if (ts.isUnionTypeNode(type)) {
        return context.factory.updateUnionTypeNode(type, context.factory.createNodeArray(type.types.map(asKeyword)));
      }
      if (ts.isParenthesizedTypeNode(type)) {
        return context.factory.updateParenthesizedType(type, asKeyword(type.type));
      }
      return type;
    };
    const visit = (node) => {
      const typed = ts.isPropertyDeclaration(node) || ts.isParameter(node) ||
        ts.isGetAccessorDeclaration(node) || ts.isMethodDeclaration(node);
      if (typed && node.type) {
        const type = asKeyword(node.type);
        if (type !== node.type) {
          node = ts.isPropertyDeclaration(node)
            ? context.factory.updatePropertyDeclaration(node, node.modifiers, node.name, node.questionToken || node.exclamationToken, type, node.initializer)
            : ts.isParameter(node)
            ? context.factory.updateParameterDeclaration(node, node.modifiers, node.dotDotDotToken, node.name, node.questionToken, type, node.initializer)
            : ts.isGetAccessorDeclaration(node)
            ? context.factory.updateGetAccessorDeclaration(node, node.modifiers, node.name, node.parameters, type, node.body)
            : context.factory.updateMethodDeclaration(node, node.modifiers, node.asteriskToken, node.name, node.questionToken, node.typeParameters, node.parameters, type, node.body);
        }
      }
      return ts.visitEachChild(node, visit, context);
    };
    return (sourceFile) => ts.visitNode(sourceFile, visit);
  };
}
