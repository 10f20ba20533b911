package io.lineageledger.schemas.registry;

/**
 * An error answered by a schema registry, with Confluent's HTTP status and {@code error_code}.
 *
 * <p>The same type is thrown by the in-process {@link SchemaCatalog}, by the REST client (parsed
 * from the server's error body) and mapped back to a response by the registry server, so a caller
 * sees identical codes whichever registry it talks to. {@link #isRetriable()} says whether the
 * same call may succeed later (server-side or transport failures).
 */
public class SchemaRegistryException extends RuntimeException {
  public static final int SUBJECT_NOT_FOUND = 40401;
  public static final int VERSION_NOT_FOUND = 40402;
  public static final int SCHEMA_NOT_FOUND = 40403;
  public static final int SUBJECT_CONFIG_NOT_FOUND = 40408;
  public static final int INVALID_SCHEMA = 42201;
  public static final int INVALID_VERSION = 42202;
  public static final int INVALID_COMPATIBILITY_LEVEL = 42203;
  public static final int INCOMPATIBLE_SCHEMA = 409;
  public static final int STORE_ERROR = 50001;
  public static final int UNREACHABLE = -1;

  private final int status;
  private final int errorCode;

  public SchemaRegistryException(int status, int errorCode, String message) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }

  public SchemaRegistryException(int status, int errorCode, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.errorCode = errorCode;
  }

  /** HTTP status code (0 when the registry could not be reached). */
  public int status() {
    return status;
  }

  /** Confluent error code, for example 40403 for an unknown schema id. */
  public int errorCode() {
    return errorCode;
  }

  /** True when retrying the same call later may succeed. */
  public boolean isRetriable() {
    return status == 0 || status >= 500;
  }

  public static SchemaRegistryException subjectNotFound(String subject) {
    return new SchemaRegistryException(404, SUBJECT_NOT_FOUND, "Subject '" + subject + "' not found.");
  }

  public static SchemaRegistryException versionNotFound(int version) {
    return new SchemaRegistryException(404, VERSION_NOT_FOUND, "Version " + version + " not found.");
  }

  public static SchemaRegistryException schemaNotFound(int id) {
    return new SchemaRegistryException(404, SCHEMA_NOT_FOUND, "Schema " + id + " not found");
  }

  public static SchemaRegistryException schemaNotFoundInSubject(String subject) {
    return new SchemaRegistryException(404, SCHEMA_NOT_FOUND, "Schema not found in subject '" + subject + "'");
  }

  public static SchemaRegistryException subjectConfigNotFound(String subject) {
    return new SchemaRegistryException(404, SUBJECT_CONFIG_NOT_FOUND,
        "Subject '" + subject + "' does not have subject-level compatibility configured");
  }

  public static SchemaRegistryException invalidSchema(String detail) {
    return new SchemaRegistryException(422, INVALID_SCHEMA, "Invalid schema: " + detail);
  }

  public static SchemaRegistryException invalidVersion(String version) {
    return new SchemaRegistryException(422, INVALID_VERSION, "The specified version '" + version
        + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"");
  }

  public static SchemaRegistryException invalidCompatibilityLevel(String level) {
    return new SchemaRegistryException(422, INVALID_COMPATIBILITY_LEVEL, "Invalid compatibility level. Valid values are "
        + java.util.Arrays.toString(CompatibilityLevel.values()) + ", got '" + level + "'");
  }

  public static SchemaRegistryException incompatible(String subject, java.util.List<String> details) {
    return new SchemaRegistryException(409, INCOMPATIBLE_SCHEMA, "Schema being registered is incompatible with an earlier schema for subject \""
        + subject + "\", details: " + details);
  }
}
