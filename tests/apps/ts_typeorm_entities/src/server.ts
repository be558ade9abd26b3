import "reflect-metadata";
import http from "http";
import { createConnection, getRepository } from "typeorm";

import { entities } from "./config";
import { Note } from "./entity/note";

createConnection({ type: "postgres", url: process.env.DATABASE_URL, synchronize: true, entities })
    .then(async () => {
        const notes = getRepository(Note);
        await notes.save(notes.create({ text: "kept" }));
        http.createServer(async (request, response) => {
            const all = await notes.find();
            response.setHeader("content-type", "application/json");
            response.end(JSON.stringify({ notes: all.map((note) => note.text) }));
        }).listen(Number(process.env.PORT || 3000));
    })
    .catch((error) => console.log("TypeORM connection error: ", error));
