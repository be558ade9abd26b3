// Imports through the path tsconfig.json maps ("@/*" -> "src/*"), as beerjoa's
// express-sequelize-ts does: ts-node alone cannot resolve it.
import { makeServer } from "@/app";

makeServer().listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1");
