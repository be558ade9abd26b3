import 'reflect-metadata';
import { DataSource } from 'typeorm';

// Loaded by TypeORM's CLI, run as `ts-node ./node_modules/typeorm/cli.js`: ES import
// syntax and __dirname, compiled to CommonJS by this project's tsconfig.json.
export const AppDataSource = new DataSource({
  type: 'sqljs',
  location: __dirname + '/../notes.sqlite',
  autoSave: true,
  migrations: [__dirname + '/migrations/*{.ts,.js}'],
});
