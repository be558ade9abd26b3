import { MigrationInterface, QueryRunner } from 'typeorm';

export class Notes1700000000000 implements MigrationInterface {
  name = 'Notes1700000000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('CREATE TABLE "note" ("id" INTEGER PRIMARY KEY, "text" TEXT)');
    await queryRunner.query(`INSERT INTO "note" ("text") VALUES ('migrated')`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE "note"');
  }
}
