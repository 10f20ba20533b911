package io.lineageledger.schemas.registry;

/**
 * One version of a subject: the answer of Confluent's {@code GET /subjects/{s}/versions/{v}}.
 *
 * @param subject the subject, for example {@code ledger.events-value}
 * @param id the global schema id carried in the wire format
 * @param version the version within the subject, from 1
 * @param schema the schema in Avro's canonical JSON form
 */
public record RegisteredSchema(String subject, int id, int version, String schema) {}
