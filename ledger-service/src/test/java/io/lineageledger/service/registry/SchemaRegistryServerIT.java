package io.lineageledger.service.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.infra.EmbeddedKafka;
import io.lineageledger.infra.FreePorts;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.schemas.registry.CompatibilityLevel;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.schemas.registry.SchemaRegistryException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The registry's REST API against a real broker, checked at the HTTP level as Confluent's clients see it. */
@Timeout(180)
class SchemaRegistryServerIT {
  static final String V1 = "{\"type\":\"record\",\"name\":\"Thing\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}";
  static final String V2 = "{\"type\":\"record\",\"name\":\"Thing\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"},"
      + "{\"name\":\"b\",\"type\":[\"null\",\"long\"],\"default\":null}]}";
  static final String BREAKING = "{\"type\":\"record\",\"name\":\"Thing\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"},"
      + "{\"name\":\"c\",\"type\":\"long\"}]}";
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path dir;
  static EmbeddedKafka kafka;
  static KafkaSchemaStore store;
  static SchemaRegistryServer server;
  static String url;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    kafka = EmbeddedKafka.builder(dir).port(FreePorts.next()).controllerPort(FreePorts.next()).build().start();
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      LedgerTopics.ensure(admin, (short) 1);
    }
    startRegistry();
  }

  static void startRegistry() {
    store = new KafkaSchemaStore(kafka.bootstrapServers()).start();
    server = new SchemaRegistryServer(store).start("localhost", 0);
    url = "http://localhost:" + server.port();
  }

  static void stopRegistry() {
    server.close();
    store.close();
  }

  @AfterAll
  static void stop() {
    stopRegistry();
    kafka.close();
  }

  HttpResponse<String> call(String method, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).header("Content-Type", RestSchemaRegistryClient.CONTENT_TYPE);
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String schemaBody(String schema) throws Exception {
    return JSON.writeValueAsString(Map.of("schema", schema));
  }

  @Test
  void registerTwiceSameIdThenCompatibleIsVersionTwoAndIncompatibleIs409() throws Exception {
    var first = call("POST", "/subjects/things-value/versions", schemaBody(V1));
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("Content-Type")).hasValueSatisfying(ct -> assertThat(ct).startsWith(RestSchemaRegistryClient.CONTENT_TYPE));
    int id = JSON.readTree(first.body()).get("id").asInt();
    assertThat(JSON.readTree(call("POST", "/subjects/things-value/versions", schemaBody(V1)).body()).get("id").asInt()).isEqualTo(id);

    JsonNode byId = JSON.readTree(call("GET", "/schemas/ids/" + id, null).body());
    assertThat(new Schema.Parser().parse(byId.get("schema").asText())).isEqualTo(new Schema.Parser().parse(V1));

    var breaking = call("POST", "/subjects/things-value/versions", schemaBody(BREAKING));
    assertThat(breaking.statusCode()).isEqualTo(409);
    JsonNode error = JSON.readTree(breaking.body());
    assertThat(error.get("error_code").asInt()).isEqualTo(409);
    assertThat(error.get("message").asText()).contains("incompatible with an earlier schema for subject \"things-value\"");

    var compatible = call("POST", "/subjects/things-value/versions", schemaBody(V2));
    assertThat(compatible.statusCode()).isEqualTo(200);
    JsonNode latest = JSON.readTree(call("GET", "/subjects/things-value/versions/latest", null).body());
    assertThat(latest.get("version").asInt()).isEqualTo(2);
    assertThat(latest.get("id").asInt()).isEqualTo(JSON.readTree(compatible.body()).get("id").asInt());
    assertThat(JSON.readTree(call("GET", "/subjects/things-value/versions", null).body()).toString()).isEqualTo("[1,2]");

    // The same schema under another subject keeps its global id.
    int elsewhere = JSON.readTree(call("POST", "/subjects/other-value/versions", schemaBody(V1)).body()).get("id").asInt();
    assertThat(elsewhere).isEqualTo(id);
    assertThat(JSON.readTree(call("GET", "/schemas/ids/" + id + "/subjects", null).body()).toString())
        .contains("\"other-value\"", "\"things-value\"");

    JsonNode lookedUp = JSON.readTree(call("POST", "/subjects/things-value", schemaBody(V2)).body());
    assertThat(lookedUp.get("version").asInt()).isEqualTo(2);

    JsonNode compat = JSON.readTree(call("POST", "/compatibility/subjects/things-value/versions/latest?verbose=true", schemaBody(BREAKING)).body());
    assertThat(compat.get("is_compatible").asBoolean()).isFalse();
    assertThat(compat.get("messages")).isNotEmpty();
  }

  @Test
  void errorsCarryConfluentCodes() throws Exception {
    call("POST", "/subjects/errors-value/versions", schemaBody(V1));
    assertError(call("GET", "/subjects/missing-value/versions/latest", null), 404, 40401);
    assertError(call("GET", "/subjects/errors-value/versions/7", null), 404, 40402);
    assertError(call("GET", "/schemas/ids/99999", null), 404, 40403);
    assertError(call("POST", "/subjects/errors-value/versions", schemaBody("{\"type\":\"recrd\"}")), 422, 42201);
    assertError(call("GET", "/subjects/errors-value/versions/zero", null), 422, 42202);
    assertError(call("GET", "/config/errors-value", null), 404, 40408);
    assertError(call("PUT", "/config", "{\"compatibility\":\"SIDEWAYS\"}"), 422, 42203);
    assertError(call("GET", "/no/such/path", null), 404, 404);
  }

  private static void assertError(HttpResponse<String> response, int status, int code) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.get("error_code").asInt()).isEqualTo(code);
    assertThat(body.get("message").asText()).isNotBlank();
  }

  @Test
  void restClientSpeaksTheSameApi() {
    try (RestSchemaRegistryClient client = new RestSchemaRegistryClient(url)) {
      Schema v1 = new Schema.Parser().parse(V1);
      int id = client.register("client-value", v1);
      assertThat(client.schemaById(id)).isEqualTo(v1);
      assertThat(client.lookup("client-value", v1).version()).isEqualTo(1);
      assertThat(client.compatibilityProblems("client-value", new Schema.Parser().parse(BREAKING))).isNotEmpty();
      client.setSubjectCompatibility("client-value", CompatibilityLevel.NONE);
      assertThat(client.subjectCompatibility("client-value")).contains(CompatibilityLevel.NONE);
      assertThat(client.register("client-value", new Schema.Parser().parse(BREAKING))).isPositive();
      assertThat(client.globalCompatibility()).isEqualTo(CompatibilityLevel.BACKWARD);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.schemaById(123456))
          .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
    }
  }

  @Test
  void deserializerAgainstTheServerNamesAnUnknownSchemaIdAndAWrongMagicByte() {
    try (RestSchemaRegistryClient client = new RestSchemaRegistryClient(url)) {
      var deserializer = new io.lineageledger.schemas.serde.LedgerAvroDeserializer<>(client, io.lineageledger.events.EventEnvelope.class);
      byte[] unknownId = {0, 0, 0, 0x7f, 0x7f, 2, 'x'};
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> deserializer.deserialize("ledger.events", unknownId))
          .isInstanceOf(io.lineageledger.schemas.serde.WireFormat.UnknownSchemaIdException.class)
          .hasMessageContaining("Unknown schema id 32639");
      byte[] wrongMagic = {1, 0, 0, 0, 1, 2, 'x'};
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> deserializer.deserialize("ledger.events", wrongMagic))
          .isInstanceOf(io.lineageledger.schemas.serde.WireFormat.UnknownMagicByteException.class)
          .hasMessageContaining("Unknown magic byte 0x01");
    }
  }

  @Test
  void schemasSurviveARegistryRestartAndNewIdsDoNotReuseOldOnes() throws Exception {
    int id = JSON.readTree(call("POST", "/subjects/durable-value/versions", schemaBody(V1)).body()).get("id").asInt();
    call("PUT", "/config/durable-value", "{\"compatibility\":\"FULL\"}");
    stopRegistry();
    startRegistry();
    assertThat(JSON.readTree(call("GET", "/subjects/durable-value/versions/1", null).body()).get("id").asInt()).isEqualTo(id);
    assertThat(JSON.readTree(call("GET", "/config/durable-value", null).body()).get("compatibilityLevel").asText()).isEqualTo("FULL");
    String fresh = "{\"type\":\"record\",\"name\":\"Fresh\",\"fields\":[{\"name\":\"z\",\"type\":\"int\"}]}";
    int newId = JSON.readTree(call("POST", "/subjects/fresh-value/versions", schemaBody(fresh)).body()).get("id").asInt();
    assertThat(newId).isGreaterThan(id);
  }
}
