package io.lineageledger.service.producers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.DataTransformApplied;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.ModelVersionRegistered;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.RunStatus;
import io.lineageledger.events.StepSummary;
import io.lineageledger.service.BenchRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference trainer under {@code ledger run} against the real broker: every event kind
 * arrives, in order within the run; secrets in the environment never reach a record; a run
 * during a broker outage is spooled and shipped once. Also the trainer's determinism: the same
 * seed gives the same checkpoint, and 150 steps + resume to 300 equals 300 straight.
 */
@Timeout(600)
class TrainerIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Map<String, String> SECRETS = Map.of(
      "WANDB_API_KEY", "wandb-key-7f3a9c1d2e", "HF_TOKEN", "hf_tok_QmX81kLpZr", "AWS_SECRET_ACCESS_KEY", "aws+secret/Zx9Kq2Lm7Pw");

  @TempDir
  static Path dir;
  static LedgerCluster cluster;
  static Path trainer;

  @BeforeAll
  static void start() throws Exception {
    trainer = TrainerBuild.binary();
    cluster = new LedgerCluster(dir.resolve("ledger")).start();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Map<String, String> env(Map<String, String> extra) {
    Map<String, String> env = new java.util.HashMap<>(cluster.env());
    env.putAll(extra);
    return env;
  }

  @Test
  void aTrainerRunPublishesEveryEventKindInOrderAndNoSecret() throws Exception {
    Path work = Files.createDirectories(dir.resolve("run-1"));
    LedgerCliProcess.Result r = LedgerCliProcess.run(work, env(SECRETS), "run", "run", "--run-id", "charlm-1", "--experiment", "charlm",
        "--env", "WANDB_API_KEY", "--env", "HF_TOKEN", "--env", "AWS_SECRET_ACCESS_KEY", "--output", "json",
        "--", trainer.toString(), "--steps", "300", "--seed", "42", "--out", work.resolve("out").toString(), "--register-model", "charlm");
    assertThat(r.exitCode()).as("ledger run; stderr:%n%s", r.stderr()).isZero();
    JsonNode summary = JSON.readTree(r.stdout().lines().filter(l -> l.startsWith("{\"run_id\"")).findFirst().orElseThrow());
    assertThat(summary.get("status").asText()).isEqualTo("COMPLETED");
    assertThat(summary.at("/lines/rejected").asLong()).as(r.stderr()).isZero();

    List<EventLog.Entry> log = EventLog.readAll(cluster.bootstrapServers(), cluster.registryUrl());
    List<EventEnvelope> run = log.stream().filter(e -> e.event().getSubject().equals("run:charlm-1"))
        .sorted(Comparator.comparingLong(EventLog.Entry::offset)).map(EventLog.Entry::event).toList();
    assertThat(log.stream().filter(e -> e.event().getSubject().equals("run:charlm-1")).map(EventLog.Entry::partition).distinct())
        .as("one subject, one partition").hasSize(1);

    // Order within the run: started, config, datasets, steps and checkpoints, evaluation, finished.
    List<String> kinds = run.stream().map(e -> e.getPayload().getClass().getSimpleName()).toList();
    assertThat(kinds.get(0)).isEqualTo("RunStarted");
    assertThat(kinds.get(1)).isEqualTo("ConfigSnapshot");
    assertThat(kinds.subList(2, 4)).containsExactly("DatasetBound", "DatasetBound");
    assertThat(kinds.get(kinds.size() - 1)).isEqualTo("RunFinished");
    assertThat(kinds.get(kinds.size() - 2)).isEqualTo("EvaluationCompleted");
    assertThat(kinds.subList(4, kinds.size() - 2)).containsOnly("StepSummary", "CheckpointSaved");

    RunStarted started = (RunStarted) run.get(0).getPayload();
    assertThat(started.getExperiment()).isEqualTo("charlm");
    assertThat(started.getCommandLine()).contains("--steps", "300");
    assertThat(started.getSeeds()).containsEntry("seed", 42L);
    assertThat(started.getEnvironment().getHardware().getCpuCount()).isPositive();
    assertThat(started.getTags()).containsEntry("env.HF_TOKEN", "[REDACTED]");

    ConfigSnapshot config = (ConfigSnapshot) run.get(1).getPayload();
    assertThat(config.getDigest()).startsWith("sha256:");
    assertThat(config.getParams()).isNotEmpty();

    List<StepSummary> steps = payloads(run, StepSummary.class);
    assertThat(steps).hasSizeGreaterThanOrEqualTo(30);
    assertThat(steps.stream().map(StepSummary::getStep).toList()).isSorted().endsWith(300L);
    assertThat(steps).allSatisfy(s -> assertThat(s.getMetrics()).containsKeys("lr", "grad_norm", "tokens_per_s"));
    assertThat(steps.get(steps.size() - 1).getLoss()).isLessThan(steps.get(0).getLoss());

    List<CheckpointSaved> checkpoints = payloads(run, CheckpointSaved.class);
    assertThat(checkpoints.stream().map(CheckpointSaved::getStep).toList()).containsExactly(100L, 200L, 300L);
    CheckpointSaved last = checkpoints.get(2);
    assertThat(last.getDigest()).isEqualTo(sha256(Path.of(java.net.URI.create(last.getUri()))));
    assertThat(last.getContents().getOptimizer()).isTrue();
    for (int i = 0; i < run.size(); i++) {
      if (run.get(i).getPayload() instanceof CheckpointSaved c) {
        long before = ((StepSummary) run.stream().limit(i).filter(e -> e.getPayload() instanceof StepSummary)
            .reduce((a, b) -> b).orElseThrow().getPayload()).getStep();
        assertThat(before).as("the step summary of step %d precedes its checkpoint", c.getStep()).isEqualTo(c.getStep());
      }
    }

    EvaluationCompleted eval = payloads(run, EvaluationCompleted.class).get(0);
    assertThat(eval.getMetrics()).containsKeys("val_loss", "perplexity", "accuracy");
    assertThat(eval.getCheckpointDigest()).isEqualTo(last.getDigest());

    RunFinished finished = (RunFinished) run.get(run.size() - 1).getPayload();
    assertThat(finished.getStatus()).isEqualTo(RunStatus.COMPLETED);
    assertThat(finished.getExitCode()).isZero();
    assertThat(finished.getFinalMetrics()).containsKey("val_loss");

    // The data pipeline: four transforms, each keyed by the dataset it produced, chained by digest.
    List<DataTransformApplied> transforms = log.stream().map(e -> e.event().getPayload())
        .filter(p -> p instanceof DataTransformApplied).map(p -> (DataTransformApplied) p).toList();
    assertThat(transforms.stream().map(DataTransformApplied::getTransformName).toList())
        .contains("normalize", "dedupe", "filter", "split");
    List<DatasetBound> bound = payloads(run, DatasetBound.class);
    assertThat(bound.stream().map(DatasetBound::getRole).toList()).containsExactlyInAnyOrder("train", "validation");
    DataTransformApplied split = transforms.stream().filter(t -> t.getTransformName().equals("split")).findFirst().orElseThrow();
    assertThat(split.getOutputs().stream().map(d -> d.getDigest()).toList())
        .containsAll(bound.stream().map(b -> b.getDataset().getDigest()).toList());

    ModelVersionRegistered model = log.stream().map(e -> e.event().getPayload()).filter(p -> p instanceof ModelVersionRegistered)
        .map(p -> (ModelVersionRegistered) p).findFirst().orElseThrow();
    assertThat(model.getRunId()).isEqualTo("charlm-1");
    assertThat(model.getCheckpointDigest()).isEqualTo(last.getDigest());

    assertNoSecretIn(log);
  }

  @Test
  void theLineageOfARegisteredModelReachesItsRunCheckpointConfigCodeAndRawCorpus() throws Exception {
    Path work = Files.createDirectories(dir.resolve("run-lineage"));
    git(work, "init", "-q");
    Files.writeString(work.resolve("train.cfg"), "lr=0.1\n");
    git(work, "add", "train.cfg");
    git(work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "config");
    String commit = git(work, "rev-parse", "HEAD");
    LedgerCliProcess.Result r = LedgerCliProcess.run(work, cluster.env(), "run", "run", "--run-id", "lineage-1",
        "--", trainer.toString(), "--steps", "200", "--seed", "3", "--out", work.resolve("out").toString(), "--register-model", "charlm-lineage");
    assertThat(r.exitCode()).as("ledger run; stderr:%n%s", r.stderr()).isZero();
    List<EventLog.Entry> log = EventLog.readAll(cluster.bootstrapServers(), cluster.registryUrl());
    ModelVersionRegistered model = log.stream().map(e -> e.event().getPayload()).filter(p -> p instanceof ModelVersionRegistered)
        .map(p -> (ModelVersionRegistered) p).filter(m -> m.getModelName().equals("charlm-lineage")).findFirst().orElseThrow();
    DataTransformApplied normalize = log.stream().map(e -> e.event().getPayload()).filter(p -> p instanceof DataTransformApplied).map(p -> (DataTransformApplied) p)
        .filter(t -> t.getTransformName().equals("normalize")).reduce((a, b) -> b).orElseThrow();
    String corpus = "dataset:" + normalize.getInputs().get(0).getName() + "@" + normalize.getInputs().get(0).getVersion();
    assertThat(corpus).startsWith("dataset:corpus.raw@");
    List<EventEnvelope> run = log.stream().filter(e -> e.event().getSubject().equals("run:lineage-1")).map(EventLog.Entry::event).toList();
    String config = payloads(run, ConfigSnapshot.class).get(0).getDigest();
    String modelNode = "model:charlm-lineage/" + model.getVersion();

    JsonNode up = await(() -> lineage(modelNode, "--upstream", "--output", "json"));
    List<String> upstream = ids(up);
    assertThat(upstream).contains(modelNode, "run:lineage-1", "checkpoint:" + model.getCheckpointDigest(), "config:" + config, corpus);
    assertThat(upstream).anySatisfy(id -> assertThat(id).startsWith("code:").endsWith(commit));
    assertThat(up.get("truncated").asBoolean()).isFalse();

    List<String> downstream = ids(await(() -> lineage(corpus, "--downstream", "--output", "json")));
    assertThat(downstream).contains("run:lineage-1", "checkpoint:" + model.getCheckpointDigest(), modelNode);
    assertThat(downstream).doesNotContain("config:" + config);

    String table = lineage(modelNode, "--upstream", "--depth", "2");
    assertThat(table.lines().findFirst().orElseThrow()).startsWith("DEPTH");
    assertThat(table).contains("checkpoint:" + model.getCheckpointDigest(), "WAS_DERIVED_FROM", "(truncated");
    assertThat(table).doesNotContain(corpus);
    String dot = lineage(modelNode, "--upstream", "--output", "dot");
    assertThat(dot).startsWith("digraph lineage {")
        .contains("\"" + modelNode + "\" -> \"checkpoint:" + model.getCheckpointDigest() + "\" [label=\"WAS_DERIVED_FROM\"];");
    assertThat(lineage(modelNode, "--upstream", "--output", "mermaid")).startsWith("graph BT").contains("-->|WAS_DERIVED_FROM|");
  }

  @Test
  void aReplayManifestResumesTheTrainerToTheSameWeightsAsTheRecordedRun() throws Exception {
    Path work = Files.createDirectories(dir.resolve("run-replay"));
    LedgerCliProcess.Result r = LedgerCliProcess.run(work, cluster.env(), "run", "run", "--run-id", "replay-1",
        "--", trainer.toString(), "--steps", "300", "--seed", "5", "--lr", "0.004", "--out", work.resolve("out").toString());
    assertThat(r.exitCode()).as("ledger run; stderr:%n%s", r.stderr()).isZero();
    CheckpointSaved last = EventLog.readAll(cluster.bootstrapServers(), cluster.registryUrl()).stream()
        .filter(e -> e.event().getSubject().equals("run:replay-1") && e.event().getPayload() instanceof CheckpointSaved)
        .map(e -> (CheckpointSaved) e.event().getPayload()).reduce((a, b) -> b).orElseThrow();
    assertThat(last.getStep()).isEqualTo(300);

    String json = cli("replay", "replay-1", "--to-step", "250", "--output", "json");
    JsonNode manifest = JSON.readTree(json);
    assertThat(manifest.get("manifest").asText()).isEqualTo("lineage-ledger/resume/1");
    assertThat(manifest.at("/checkpoint/step").asLong()).isEqualTo(200);
    assertThat(manifest.at("/config/params/optimizer.lr").asDouble()).isEqualTo(0.004);
    assertThat(manifest.at("/config/params/steps").asLong()).isEqualTo(300);
    assertThat(manifest.get("seeds").get("seed").asLong()).isEqualTo(5);
    assertThat(manifest.get("datasets")).hasSize(2);
    Path file = work.resolve("manifest.json");
    Files.writeString(file, json);

    // The trainer takes the run's configuration, data digests and checkpoint from the manifest.
    JsonNode resumed = train(dir.resolve("replay-resumed"), "--resume-manifest", file.toString());
    assertThat(resumed.get("digest").asText()).isEqualTo(last.getDigest());
    assertThat(Files.readString(dir.resolve("replay-resumed").resolve("trainer.err"))).contains("resume manifest", "run replay-1 to step 250");

    String table = cli("replay", "replay-1", "--to-step", "250");
    assertThat(table).contains("step 200", "optimizer.lr", "--resume-manifest");
    assertThat(cliError("replay", "replay-1", "--to-step", "50")).contains("no complete checkpoint at or before step 50");

    // A checkpoint file that no longer has the recorded digest is refused, naming both digests.
    Files.writeString(file, json.replace(manifest.at("/checkpoint/digest").asText(), "sha256:" + "0".repeat(64)));
    Path refused = Files.createDirectories(dir.resolve("replay-refused"));
    Process p = new ProcessBuilder(trainer.toString(), "--resume-manifest", file.toString(), "--out", refused.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(out).contains("has digest " + manifest.at("/checkpoint/digest").asText(), "the ledger recorded sha256:000");
  }

  private static String cli(String... args) {
    return cliRun(true, args);
  }

  private static String cliError(String... args) {
    return cliRun(false, args);
  }

  private static String cliRun(boolean ok, String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    var cli = io.lineageledger.service.cli.LedgerCli.commandLine();
    cli.setOut(new java.io.PrintWriter(out));
    cli.setErr(new java.io.PrintWriter(err));
    List<String> all = new ArrayList<>(List.of(args));
    all.add(1, "--api-url=" + cluster.apiUrl());
    int exit = cli.execute(all.toArray(String[]::new));
    assertThat(exit == 0).as("ledger %s exited %d: %s", String.join(" ", args), exit, err).isEqualTo(ok);
    return ok ? out.toString() : err.toString();
  }

  private static String lineage(String... args) {
    List<String> all = new ArrayList<>(List.of("lineage"));
    all.addAll(List.of(args));
    return cli(all.toArray(String[]::new));
  }

  /** Retries while the projections have not yet caught up with what was just published. */
  private static JsonNode await(java.util.concurrent.Callable<String> json) {
    JsonNode[] result = new JsonNode[1];
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).pollInterval(java.time.Duration.ofMillis(200))
        .ignoreExceptions().until(() -> {
          result[0] = JSON.readTree(json.call());
          return true;
        });
    return result[0];
  }

  private static List<String> ids(JsonNode graph) {
    List<String> ids = new ArrayList<>();
    graph.get("nodes").forEach(n -> ids.add(n.get("id").asText()));
    return ids;
  }

  private static String git(Path dir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("git %s: %s", String.join(" ", args), out).isZero();
    return out;
  }

  @Test
  void aFailingCommandIsRecordedWithItsStderrTailAndNoSecret() throws Exception {
    Path work = Files.createDirectories(dir.resolve("run-fail"));
    Path script = work.resolve("train.sh");
    Files.writeString(script, String.join("\n", "#!/bin/sh",
        "echo \"{\\\"type\\\":\\\"config_snapshot\\\",\\\"params\\\":{\\\"wandb\\\":\\\"$WANDB_API_KEY\\\",\\\"lr\\\":0.1}}\" >> \"$LEDGER_EVENTS\"",
        "echo \"{\\\"type\\\":\\\"step_summary\\\",\\\"step\\\":1,\\\"loss\\\":\\\"NaN\\\",\\\"non_finite_count\\\":1}\" >> \"$LEDGER_EVENTS\"",
        "echo \"login failed with token $HF_TOKEN and $AWS_SECRET_ACCESS_KEY\" >&2",
        "echo 'RuntimeError: loss is NaN' >&2",
        "exit 3", ""));
    script.toFile().setExecutable(true);
    LedgerCliProcess.Result r = LedgerCliProcess.run(work, env(SECRETS), "run", "run", "--run-id", "fails-1",
        "--", script.toString(), "--hf-token", SECRETS.get("HF_TOKEN"), "--wandb-key=" + SECRETS.get("WANDB_API_KEY"));
    assertThat(r.exitCode()).isEqualTo(3);

    List<EventLog.Entry> log = EventLog.readAll(cluster.bootstrapServers(), cluster.registryUrl());
    List<EventEnvelope> run = log.stream().filter(e -> e.event().getSubject().equals("run:fails-1"))
        .sorted(Comparator.comparingLong(EventLog.Entry::offset)).map(EventLog.Entry::event).toList();
    assertThat(run).hasSize(4);
    RunFinished finished = (RunFinished) run.get(3).getPayload();
    assertThat(finished.getStatus()).isEqualTo(RunStatus.FAILED);
    assertThat(finished.getExitCode()).isEqualTo(3);
    assertThat(finished.getError()).contains("RuntimeError: loss is NaN", "login failed with token [REDACTED]");
    assertThat(((RunStarted) run.get(0).getPayload()).getCommandLine()).contains("--hf-token", "[REDACTED]", "--wandb-key=[REDACTED]");
    assertThat(((ConfigSnapshot) run.get(1).getPayload()).getParams()).containsEntry("wandb", "\"[REDACTED]\"");
    assertNoSecretIn(log);
  }

  @Test
  void aCommandEndedBySignalIsRecordedAsKilled() throws Exception {
    Path work = Files.createDirectories(dir.resolve("run-kill"));
    LedgerCliProcess.Result r = LedgerCliProcess.run(work, cluster.env(), "run", "run", "--run-id", "killed-1",
        "--", "sh", "-c", "kill -KILL $$");
    assertThat(r.exitCode()).isEqualTo(137);
    RunFinished finished = EventLog.readAll(cluster.bootstrapServers(), cluster.registryUrl()).stream()
        .filter(e -> e.event().getSubject().equals("run:killed-1") && e.event().getPayload() instanceof RunFinished)
        .map(e -> (RunFinished) e.event().getPayload()).findFirst().orElseThrow();
    assertThat(finished.getStatus()).isEqualTo(RunStatus.KILLED);
    assertThat(finished.getError()).contains("signal 9 (SIGKILL)");
  }

  @Test
  void theSameSeedGivesTheSameCheckpointAndAResumeEqualsAStraightRun() throws Exception {
    Path a = dir.resolve("det-a");
    Path b = dir.resolve("det-b");
    Path c = dir.resolve("det-c");
    JsonNode first = train(a, "--steps", "300", "--seed", "7");
    JsonNode second = train(b, "--steps", "300", "--seed", "7");
    assertThat(first.get("backend").asText()).isEqualTo("cpu");
    assertThat(second.get("digest").asText()).isEqualTo(first.get("digest").asText());

    JsonNode half = train(c, "--steps", "150", "--seed", "7");
    JsonNode resumed = train(c, "--steps", "300", "--seed", "7", "--resume", half.get("final_checkpoint").asText());
    assertThat(resumed.get("digest").asText()).isEqualTo(first.get("digest").asText());

    JsonNode withoutOptimizer = train(dir.resolve("det-d"), "--steps", "300", "--seed", "7",
        "--resume", half.get("final_checkpoint").asText(), "--resume-without-optimizer-state");
    assertThat(withoutOptimizer.get("digest").asText()).isNotEqualTo(first.get("digest").asText());
    JsonNode otherSeed = train(dir.resolve("det-e"), "--steps", "300", "--seed", "8");
    assertThat(otherSeed.get("digest").asText()).isNotEqualTo(first.get("digest").asText());
  }

  @Test
  void theStepTimeBenchmarkRunsTheTrainerBareOnlineAndOffline() throws Exception {
    JsonNode r = BenchRun.json("bench", "trainer", "--trainer", trainer.toString(), "--steps", "100", "--rounds", "1",
        "--output", "json");
    for (String side : List.of("bare", "broker_up", "broker_down")) {
      assertThat(r.get(side + "_step_ms")).hasSize(1);
      assertThat(r.get(side + "_median_step_ms").asDouble()).isPositive();
    }
    assertThat(r.get("broker_down_over_broker_up").asDouble())
        .isEqualTo(r.get("broker_down_median_step_ms").asDouble() / r.get("broker_up_median_step_ms").asDouble());
  }

  @Test
  void theTrainersOwnTestsPass() throws Exception {
    Path build = trainer.getParent();
    Process p = new ProcessBuilder("ctest", "--test-dir", build.toString(), "--output-on-failure")
        .redirectErrorStream(true).redirectOutput(dir.resolve("ctest.log").toFile()).start();
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("ctest.log"))).isZero();
    assertThat(Files.readString(dir.resolve("ctest.log"))).contains("100% tests passed");
  }

  private static JsonNode train(Path out, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(trainer.toString(), "--out", out.toString()));
    cmd.addAll(List.of(args));
    Files.createDirectories(out);
    Process p = new ProcessBuilder(cmd).redirectError(out.resolve("trainer.err").toFile()).start();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(out.resolve("trainer.err"))).isZero();
    return JSON.readTree(stdout.strip());
  }

  static <T> List<T> payloads(List<EventEnvelope> events, Class<T> type) {
    return events.stream().map(EventEnvelope::getPayload).filter(type::isInstance).map(type::cast).collect(Collectors.toList());
  }

  static void assertNoSecretIn(List<EventLog.Entry> log) {
    assertThat(log).isNotEmpty();
    for (EventLog.Entry e : log) {
      String bytes = new String(e.value(), StandardCharsets.ISO_8859_1) + new String(e.key(), StandardCharsets.ISO_8859_1);
      for (Map.Entry<String, String> s : SECRETS.entrySet()) {
        assertThat(bytes).as("%s's value in the record at %d/%d", s.getKey(), e.partition(), e.offset()).doesNotContain(s.getValue());
      }
    }
  }

  static String sha256(Path file) throws Exception {
    return "sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }
}
