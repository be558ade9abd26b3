// excluded by tsconfig.build.json's "**/*spec.ts"
export const spec = true;
