// As the Koa/TypeORM boilerplates have it: TypeScript entities in development (run by
// ts-node), the compiled ones otherwise.
const isDevMode = process.env.NODE_ENV == "development";

export const entities = isDevMode ? ["src/entity/**/*.ts"] : ["dist/entity/**/*.js"];
