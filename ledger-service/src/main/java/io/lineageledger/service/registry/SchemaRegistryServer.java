package io.lineageledger.service.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.lineageledger.schemas.registry.CompatibilityLevel;
import io.lineageledger.schemas.registry.RegisteredSchema;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.schemas.registry.SchemaCatalog;
import io.lineageledger.schemas.registry.SchemaRegistryException;
import io.lineageledger.schemas.registry.StoreRecord;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A schema registry speaking Confluent's REST API (the subset Confluent's serializers, the
 * ledger and most tools use), with Confluent's status codes, {@code error_code} values and
 * content type, over a {@link KafkaSchemaStore}. Avro only; schema references are refused.
 *
 * <pre>
 * POST /subjects/{subject}/versions           register          {"id": 1}
 * POST /subjects/{subject}                    look up           {"subject","id","version","schema"}
 * GET  /subjects, /subjects/{s}/versions, /subjects/{s}/versions/{v|latest}[/schema]
 * GET  /schemas/ids/{id}[/subjects|/versions], /schemas/types
 * POST /compatibility/subjects/{s}/versions[/{v|latest}]   {"is_compatible": true}
 * GET|PUT /config, /config/{subject}; GET /mode
 * </pre>
 */
public final class SchemaRegistryServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KafkaSchemaStore store;
  private final Javalin app;

  public SchemaRegistryServer(KafkaSchemaStore store) {
    this.store = store;
    this.app = Javalin.create(config -> {
      config.showJavalinBanner = false;
      config.http.defaultContentType = RestSchemaRegistryClient.CONTENT_TYPE;
      config.useVirtualThreads = false;
    });
    routes();
  }

  /** Starts listening; {@code port} 0 picks a free port (see {@link #port()}). */
  public SchemaRegistryServer start(String host, int port) {
    app.start(host, port);
    LOG.info("schema registry listening on port {}", app.port());
    return this;
  }

  public int port() {
    return app.port();
  }

  private void routes() {
    app.get("/", ctx -> json(ctx, Map.of()));
    app.get("/schemas/types", ctx -> json(ctx, List.of("AVRO")));
    app.get("/mode", ctx -> json(ctx, Map.of("mode", "READWRITE")));

    app.get("/subjects", ctx -> json(ctx, store.read(SchemaCatalog::subjects)));
    app.post("/subjects/{subject}/versions", ctx -> {
      String subject = ctx.pathParam("subject");
      int id = store.register(subject, schemaFromBody(ctx));
      json(ctx, Map.of("id", id));
    });
    app.post("/subjects/{subject}", ctx -> {
      String subject = ctx.pathParam("subject");
      Schema schema = schemaFromBody(ctx);
      RegisteredSchema found = store.read(c -> c.lookup(subject, schema))
          .orElseThrow(() -> SchemaRegistryException.schemaNotFoundInSubject(subject));
      json(ctx, registered(found));
    });
    app.get("/subjects/{subject}/versions", ctx -> json(ctx, store.read(c -> c.versions(ctx.pathParam("subject")))));
    app.get("/subjects/{subject}/versions/{version}", ctx -> json(ctx, registered(version(ctx))));
    app.get("/subjects/{subject}/versions/{version}/schema", ctx -> {
      ctx.contentType(RestSchemaRegistryClient.CONTENT_TYPE).result(version(ctx).schema());
    });

    app.get("/schemas/ids/{id}", ctx -> json(ctx, Map.of("schema", store.read(c -> c.schemaById(id(ctx))))));
    app.get("/schemas/ids/{id}/schema", ctx -> ctx.contentType(RestSchemaRegistryClient.CONTENT_TYPE)
        .result(store.<String>read(c -> c.schemaById(id(ctx)))));
    app.get("/schemas/ids/{id}/subjects", ctx -> json(ctx,
        store.read(c -> c.usesOf(id(ctx))).stream().map(RegisteredSchema::subject).distinct().toList()));
    app.get("/schemas/ids/{id}/versions", ctx -> json(ctx,
        store.read(c -> c.usesOf(id(ctx))).stream().map(r -> Map.of("subject", r.subject(), "version", r.version())).toList()));

    app.post("/compatibility/subjects/{subject}/versions", ctx -> {
      Schema schema = schemaFromBody(ctx);
      compatibility(ctx, store.read(c -> c.compatibilityProblems(ctx.pathParam("subject"), schema)));
    });
    app.post("/compatibility/subjects/{subject}/versions/{version}", ctx -> {
      String subject = ctx.pathParam("subject");
      Schema schema = schemaFromBody(ctx);
      int version = version(ctx).version();
      compatibility(ctx, store.read(c -> c.compatibilityProblems(subject, version, schema)));
    });

    app.get("/config", ctx -> json(ctx, Map.of("compatibilityLevel", store.read(SchemaCatalog::globalLevel).name())));
    app.put("/config", ctx -> {
      CompatibilityLevel level = levelFromBody(ctx);
      store.setCompatibility(null, level);
      json(ctx, Map.of("compatibility", level.name()));
    });
    app.get("/config/{subject}", ctx -> {
      String subject = ctx.pathParam("subject");
      boolean defaultToGlobal = Boolean.parseBoolean(ctx.queryParam("defaultToGlobal"));
      CompatibilityLevel level = store.read(c -> defaultToGlobal ? c.effectiveLevel(subject)
          : c.subjectLevel(subject).orElseThrow(() -> SchemaRegistryException.subjectConfigNotFound(subject)));
      json(ctx, Map.of("compatibilityLevel", level.name()));
    });
    app.put("/config/{subject}", ctx -> {
      CompatibilityLevel level = levelFromBody(ctx);
      store.setCompatibility(ctx.pathParam("subject"), level);
      json(ctx, Map.of("compatibility", level.name()));
    });
    app.delete("/config/{subject}", ctx -> {
      String subject = ctx.pathParam("subject");
      CompatibilityLevel previous = store.read(c -> c.subjectLevel(subject)
          .orElseThrow(() -> SchemaRegistryException.subjectConfigNotFound(subject)));
      store.setCompatibility(subject, null);
      json(ctx, Map.of("compatibilityLevel", previous.name()));
    });

    app.exception(SchemaRegistryException.class, (e, ctx) -> error(ctx, e.status(), e.errorCode(), e.getMessage()));
    app.exception(Exception.class, (e, ctx) -> {
      LOG.error("schema registry request {} {} failed", ctx.method(), ctx.path(), e);
      error(ctx, 500, 50001, "Error in the backend data store: " + e.getMessage());
    });
    app.error(404, ctx -> {
      if (ctx.result() == null || ctx.result().isEmpty() || !ctx.result().contains("error_code")) {
        error(ctx, 404, 404, "HTTP 404 Not Found");
      }
    });
    app.error(405, ctx -> error(ctx, 405, 405, "HTTP 405 Method Not Allowed"));
  }

  private RegisteredSchema version(Context ctx) {
    String subject = ctx.pathParam("subject");
    String raw = ctx.pathParam("version");
    if ("latest".equals(raw) || "-1".equals(raw)) {
      return store.read(c -> c.latest(subject).toRegistered());
    }
    int version;
    try {
      version = Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw SchemaRegistryException.invalidVersion(raw);
    }
    if (version < 1) {
      throw SchemaRegistryException.invalidVersion(raw);
    }
    return store.read(c -> c.version(subject, version).toRegistered());
  }

  private static int id(Context ctx) {
    String raw = ctx.pathParam("id");
    try {
      return Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw new SchemaRegistryException(404, SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema " + raw + " not found");
    }
  }

  private static JsonNode body(Context ctx) {
    try {
      JsonNode body = JSON.readTree(ctx.bodyAsBytes());
      if (body == null || !body.isObject()) {
        throw new SchemaRegistryException(422, 422, "Unprocessable entity: the request body must be a JSON object");
      }
      return body;
    } catch (IOException e) {
      throw new SchemaRegistryException(400, 400, "Malformed JSON body: " + e.getMessage());
    }
  }

  private static Schema schemaFromBody(Context ctx) {
    JsonNode body = body(ctx);
    String type = body.path("schemaType").asText("AVRO");
    if (!"AVRO".equalsIgnoreCase(type)) {
      throw SchemaRegistryException.invalidSchema("schemaType " + type + " is not supported; this registry stores AVRO schemas");
    }
    if (body.path("references").isArray() && !body.path("references").isEmpty()) {
      throw SchemaRegistryException.invalidSchema("schema references are not supported; inline the referenced types");
    }
    JsonNode schema = body.get("schema");
    if (schema == null || !schema.isTextual()) {
      throw SchemaRegistryException.invalidSchema("the body needs a \"schema\" field holding the schema as a JSON string");
    }
    return SchemaCatalog.parse(schema.asText());
  }

  private static CompatibilityLevel levelFromBody(Context ctx) {
    JsonNode body = body(ctx);
    return CompatibilityLevel.parse(body.path("compatibility").asText(body.path("compatibilityLevel").asText(null)));
  }

  private static void compatibility(Context ctx, List<String> problems) {
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("is_compatible", problems.isEmpty());
    if (Boolean.parseBoolean(ctx.queryParam("verbose"))) {
      answer.put("messages", problems);
    }
    json(ctx, answer);
  }

  private static Map<String, Object> registered(RegisteredSchema r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("subject", r.subject());
    m.put("version", r.version());
    m.put("id", r.id());
    m.put("schema", r.schema());
    return m;
  }

  private static void json(Context ctx, Object body) {
    try {
      ctx.contentType(RestSchemaRegistryClient.CONTENT_TYPE).result(JSON.writeValueAsBytes(body));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void error(Context ctx, int status, int code, String message) {
    ctx.status(status);
    json(ctx, Map.of("error_code", code, "message", message == null ? "" : message));
  }

  @Override
  public void close() {
    app.stop();
  }
}
