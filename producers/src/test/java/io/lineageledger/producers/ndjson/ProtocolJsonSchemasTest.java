package io.lineageledger.producers.ndjson;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ProtocolJsonSchemasTest {
  private static final Path DIR = Path.of("protocol");

  @Test
  void thePublishedJsonSchemasMatchWhatTheSidecarAccepts() throws IOException {
    Map<String, String> expected = ProtocolJsonSchemas.all();
    assertThat(expected).hasSize(NdjsonProtocol.EventType.values().length);
    try (Stream<Path> files = Files.list(DIR)) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".schema.json")))
          .as("schema files under producers/protocol").containsExactlyInAnyOrderElementsOf(expected.keySet());
    }
    for (Map.Entry<String, String> e : expected.entrySet()) {
      assertThat(Files.readString(DIR.resolve(e.getKey())))
          .as(e.getKey() + " is stale; regenerate with ProtocolJsonSchemas.main(\"producers/protocol\")")
          .isEqualTo(e.getValue());
    }
  }
}
