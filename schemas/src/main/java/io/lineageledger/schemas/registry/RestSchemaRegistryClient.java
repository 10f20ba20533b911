package io.lineageledger.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * A client for Confluent's schema-registry REST API, usable against Confluent's registry or the
 * ledger's own. Ids and schemas are cached (they are immutable), so the serde asks the registry
 * once per schema and per id. Several base URLs may be given comma-separated; a call tries the
 * next one when a URL cannot be reached.
 *
 * <p>Thread-safe.
 */
public final class RestSchemaRegistryClient implements SchemaRegistryClient {
  public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final String ACCEPT = "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<String> baseUrls;
  private final HttpClient http;
  private final Duration requestTimeout;
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  private final Map<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();

  public RestSchemaRegistryClient(String baseUrls) {
    this(baseUrls, Duration.ofSeconds(5), Duration.ofSeconds(30));
  }

  public RestSchemaRegistryClient(String baseUrls, Duration connectTimeout, Duration requestTimeout) {
    if (baseUrls == null || baseUrls.isBlank()) {
      throw new IllegalArgumentException("schema.registry.url is empty: give the registry's base URL, for example http://localhost:8081");
    }
    this.baseUrls = Arrays.stream(baseUrls.split(",")).map(String::trim).filter(s -> !s.isEmpty())
        .map(s -> s.endsWith("/") ? s.substring(0, s.length() - 1) : s).toList();
    for (String url : this.baseUrls) {
      URI uri = URI.create(url);
      if (uri.getScheme() == null || !uri.getScheme().startsWith("http")) {
        throw new IllegalArgumentException("schema.registry.url '" + url + "' is not an http(s) URL");
      }
    }
    this.http = HttpClient.newBuilder().connectTimeout(connectTimeout).build();
    this.requestTimeout = requestTimeout;
  }

  @Override
  public int register(String subject, Schema schema) {
    String key = subject + '\u0000' + schema.toString();
    Integer cached = idsBySubjectAndSchema.get(key);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = call("POST", "/subjects/" + enc(subject) + "/versions", schemaBody(schema));
    int id = answer.path("id").asInt();
    idsBySubjectAndSchema.put(key, id);
    schemasById.putIfAbsent(id, schema);
    return id;
  }

  @Override
  public RegisteredSchema lookup(String subject, Schema schema) {
    RegisteredSchema found = toRegistered(call("POST", "/subjects/" + enc(subject), schemaBody(schema)));
    idsBySubjectAndSchema.put(subject + '\u0000' + schema.toString(), found.id());
    return found;
  }

  @Override
  public Schema schemaById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = call("GET", "/schemas/ids/" + id, null);
    String type = answer.path("schemaType").asText("AVRO");
    if (!"AVRO".equals(type)) {
      throw new SchemaRegistryException(422, SchemaRegistryException.INVALID_SCHEMA,
          "Schema " + id + " is a " + type + " schema; the ledger reads Avro only");
    }
    Schema schema = SchemaCatalog.parse(answer.path("schema").asText());
    schemasById.put(id, schema);
    return schema;
  }

  @Override
  public RegisteredSchema latest(String subject) {
    return toRegistered(call("GET", "/subjects/" + enc(subject) + "/versions/latest", null));
  }

  @Override
  public RegisteredSchema version(String subject, int version) {
    return toRegistered(call("GET", "/subjects/" + enc(subject) + "/versions/" + version, null));
  }

  @Override
  public List<Integer> versions(String subject) {
    List<Integer> versions = new ArrayList<>();
    call("GET", "/subjects/" + enc(subject) + "/versions", null).forEach(n -> versions.add(n.asInt()));
    return versions;
  }

  @Override
  public List<String> subjects() {
    List<String> subjects = new ArrayList<>();
    call("GET", "/subjects", null).forEach(n -> subjects.add(n.asText()));
    return subjects;
  }

  @Override
  public List<String> compatibilityProblems(String subject, Schema schema) {
    JsonNode answer = call("POST", "/compatibility/subjects/" + enc(subject) + "/versions?verbose=true", schemaBody(schema));
    List<String> problems = new ArrayList<>();
    if (!answer.path("is_compatible").asBoolean(false)) {
      answer.path("messages").forEach(m -> problems.add(m.asText()));
      if (problems.isEmpty()) {
        problems.add("the registry says the schema is incompatible with subject '" + subject + "'");
      }
    }
    return problems;
  }

  @Override
  public CompatibilityLevel globalCompatibility() {
    return CompatibilityLevel.parse(call("GET", "/config", null).path("compatibilityLevel").asText());
  }

  @Override
  public void setGlobalCompatibility(CompatibilityLevel level) {
    call("PUT", "/config", JSON.createObjectNode().put("compatibility", level.name()));
  }

  @Override
  public Optional<CompatibilityLevel> subjectCompatibility(String subject) {
    try {
      return Optional.of(CompatibilityLevel.parse(call("GET", "/config/" + enc(subject), null).path("compatibilityLevel").asText()));
    } catch (SchemaRegistryException e) {
      if (e.errorCode() == SchemaRegistryException.SUBJECT_CONFIG_NOT_FOUND || e.errorCode() == SchemaRegistryException.SUBJECT_NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public void setSubjectCompatibility(String subject, CompatibilityLevel level) {
    call("PUT", "/config/" + enc(subject), JSON.createObjectNode().put("compatibility", level.name()));
  }

  private static ObjectNode schemaBody(Schema schema) {
    return JSON.createObjectNode().put("schema", schema.toString());
  }

  private static RegisteredSchema toRegistered(JsonNode n) {
    return new RegisteredSchema(n.path("subject").asText(), n.path("id").asInt(), n.path("version").asInt(), n.path("schema").asText());
  }

  private static String enc(String subject) {
    return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private JsonNode call(String method, String path, JsonNode body) {
    IOException lastFailure = null;
    for (String base : baseUrls) {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(requestTimeout)
          .header("Accept", ACCEPT);
      try {
        if (body != null) {
          request.header("Content-Type", CONTENT_TYPE)
              .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        } else {
          request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        return readAnswer(method, base + path, response);
      } catch (IOException e) {
        lastFailure = e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SchemaRegistryException(0, SchemaRegistryException.UNREACHABLE, "interrupted while calling the schema registry at " + base, e);
      }
    }
    throw new SchemaRegistryException(0, SchemaRegistryException.UNREACHABLE,
        "schema registry unreachable at " + baseUrls + " (" + method + " " + path + "): " + lastFailure, lastFailure);
  }

  private static JsonNode readAnswer(String method, String url, HttpResponse<byte[]> response) {
    JsonNode json;
    try {
      json = response.body().length == 0 ? JSON.nullNode() : JSON.readTree(response.body());
    } catch (IOException e) {
      json = null;
    }
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      if (json == null) {
        throw new SchemaRegistryException(status, SchemaRegistryException.STORE_ERROR,
            method + " " + url + " answered " + status + " with a body that is not JSON");
      }
      return json;
    }
    int code = json != null && json.has("error_code") ? json.path("error_code").asInt() : status;
    String message = json != null && json.has("message") ? json.path("message").asText()
        : new String(response.body(), StandardCharsets.UTF_8);
    throw new SchemaRegistryException(status, code, message + " (" + method + " " + url + ", HTTP " + status + ")");
  }
}
