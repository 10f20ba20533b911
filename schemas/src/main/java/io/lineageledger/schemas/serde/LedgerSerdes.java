package io.lineageledger.schemas.serde;

import io.lineageledger.events.Alert;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.schemas.registry.SchemaRegistryClient;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Ready-made value serdes for the ledger's topics, bound to one schema registry. */
public final class LedgerSerdes {
  private LedgerSerdes() {}

  public static Serde<EventEnvelope> envelopes(SchemaRegistryClient registry) {
    return of(registry, EventEnvelope.class);
  }

  public static Serde<Alert> alerts(SchemaRegistryClient registry) {
    return of(registry, Alert.class);
  }

  public static <T extends SpecificRecord> Serde<T> of(SchemaRegistryClient registry, Class<T> type) {
    return Serdes.serdeFrom(new LedgerAvroSerializer<>(registry), new LedgerAvroDeserializer<>(registry, type));
  }
}
