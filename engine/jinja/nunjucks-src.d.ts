// The nunjucks modules parse.ts loads one by one (the package's types describe only its whole API).
declare module 'nunjucks/src/lexer.js' {
  const lexer: unknown;
  export default lexer;
}
declare module 'nunjucks/src/parser.js' {
  const parser: unknown;
  export default parser;
}
declare module 'nunjucks/src/nodes.js' {
  const nodes: unknown;
  export default nodes;
}
declare module 'nunjucks/src/lib.js' {
  const lib: unknown;
  export default lib;
}
declare module 'nunjucks/src/jinja-compat.js' {
  const installJinjaCompat: unknown;
  export default installJinjaCompat;
}
