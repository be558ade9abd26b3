export const migrations: string[] = ["0001-init"];
