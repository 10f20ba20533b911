package io.lineageledger.producers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.StepSummary;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerClientTest {
  @TempDir
  Path dir;

  final MockProducer<String, EventEnvelope> producer =
      new MockProducer<>(false, null, new StringSerializer(), (Serializer<EventEnvelope>) (topic, data) -> new byte[0]);
  final List<EventEnvelope> shipped = new ArrayList<>();

  /** A drain that "ships" into a list, as SpoolShipper does into Kafka. */
  final SpoolDrain drain = spool -> {
    long[] last = {-1};
    synchronized (shipped) {
      long already = shipped.size() - 1;
      spool.read(already, e -> {
        shipped.add(e.event());
        last[0] = e.seq();
      });
      return new SpoolDrain.Result(spool.id(), already, last[0] < 0 ? 0 : last[0] - already, Math.max(last[0], already));
    }
  };

  LedgerClient client(boolean withSpool) {
    LedgerClient.Builder b = LedgerClient.builder().producer(producer).retryInterval(Duration.ofMillis(50))
        .producerIdentity("producer-1", "test-trainer", "1.2.3");
    if (withSpool) {
      b.spool(dir, 1 << 20).spoolDrain(drain);
    }
    return b.build();
  }

  static StepSummary step(long s) {
    return StepSummary.newBuilder().setStep(s).setLoss(2.0).setMetrics(Map.of()).build();
  }

  @Test
  void fillsTheEnvelopeAndReportsWhereTheEventWent() throws Exception {
    try (LedgerClient client = client(false)) {
      CompletableFuture<Receipt> first = client.stepSummary("r1", step(1));
      CompletableFuture<Receipt> second = client.runStarted(RunStarted.newBuilder().setRunId("r1").setExperiment("e")
          .setCode(io.lineageledger.events.CodeVersion.newBuilder().build())
          .setEnvironment(io.lineageledger.events.RunEnvironment.newBuilder().setOs("linux").setHost("h")
              .setHardware(io.lineageledger.events.Hardware.newBuilder().setCpu("x").setCpuCount(2).build()).build())
          .build());
      producer.completeNext();
      producer.completeNext();
      assertThat(first.get(5, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.PUBLISHED);
      assertThat(second.get(5, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.PUBLISHED);
      var sent = producer.history();
      assertThat(sent).extracting(r -> r.key()).containsExactly("run:r1", "run:r1");
      EventEnvelope e0 = sent.get(0).value();
      EventEnvelope e1 = sent.get(1).value();
      assertThat(EventIds.isUuidV7(e0.getEventId())).isTrue();
      assertThat(e0.getEventId()).isLessThan(e1.getEventId());
      assertThat(e0.getProducer().getName()).isEqualTo("test-trainer");
      assertThat(e0.getProducer().getId()).isEqualTo("producer-1");
      assertThat(e1.getProducer().getSeq()).isEqualTo(e0.getProducer().getSeq() + 1);
      assertThat(first.get().eventId()).isEqualTo(e0.getEventId());
    }
  }

  @Test
  void aBrokerTimeoutSpoolsTheEventAndLaterOnesUntilTheSpoolIsShipped() throws Exception {
    try (LedgerClient client = client(true)) {
      CompletableFuture<Receipt> r1 = client.stepSummary("r1", step(1));
      producer.errorNext(new TimeoutException("broker down"));
      assertThat(r1.get(5, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.SPOOLED);
      assertThat(client.spooling()).isTrue();
      // Once spooling, the client no longer hands events to the producer, so callers are not held up.
      synchronized (shipped) {
        CompletableFuture<Receipt> r2 = client.stepSummary("r1", step(2));
        assertThat(r2.get(5, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.SPOOLED);
        assertThat(producer.history()).hasSize(1);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> !client.spooling());
      assertThat(shipped).extracting(e -> ((StepSummary) e.getPayload()).getStep()).containsExactly(1L, 2L);
      assertThat(client.spool().size()).isZero();
      CompletableFuture<Receipt> r3 = client.stepSummary("r1", step(3));
      producer.completeNext();
      assertThat(r3.get(5, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.PUBLISHED);
    }
  }

  @Test
  void aFailureRetryingCannotFixFailsTheFutureNamingTheEvent() {
    try (LedgerClient client = client(true)) {
      CompletableFuture<Receipt> r = client.stepSummary("r1", step(1));
      producer.errorNext(new RecordTooLargeException("too big"));
      String id = producer.history().get(0).value().getEventId();
      assertThat(r).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(ExecutionException.class)
          .havingCause().isInstanceOf(PublishException.class).withMessageContaining(id).withMessageContaining("too big");
      assertThat(client.spooling()).isFalse();
    }
  }

  @Test
  void withoutASpoolAnUnreachableBrokerFailsTheFuture() {
    try (LedgerClient client = client(false)) {
      CompletableFuture<Receipt> r = client.stepSummary("r1", step(1));
      producer.errorNext(new TimeoutException("broker down"));
      assertThat(r).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(ExecutionException.class)
          .havingCause().isInstanceOf(PublishException.class).withMessageContaining("no spool is configured");
    }
  }

  @Test
  void aFullSpoolFailsTheFutureWithTheSpoolsAdvice() {
    try (LedgerClient client = LedgerClient.builder().producer(producer).spool(dir, 300).spoolDrain(s -> {
      throw new TimeoutException("still down");
    }).build()) {
      CompletableFuture<Receipt> r = client.stepSummary("r1", step(1));
      producer.errorNext(new TimeoutException("broker down"));
      assertThat(r).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(ExecutionException.class)
          .havingCause().isInstanceOf(PublishException.class).withMessageContaining("is full");
    }
  }

  @Test
  void anEventPublishedWhileOlderOnesAreStillInFlightIsSpooledAfterThem() throws Exception {
    try (LedgerClient client = client(true)) {
      CompletableFuture<Receipt> first = client.stepSummary("r1", step(1));
      CompletableFuture<Receipt> second = client.stepSummary("r1", step(2));
      producer.errorNext(new TimeoutException("broker gone")); // step 1 times out: the client starts spooling
      CompletableFuture<Receipt> third = client.stepSummary("r1", step(3)); // step 2 is still with the producer
      assertThat(third).isNotDone();
      producer.errorNext(new TimeoutException("broker gone"));
      for (CompletableFuture<Receipt> r : List.of(first, second, third)) {
        assertThat(r.get(5, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.SPOOLED);
      }
      List<Long> spooled = new ArrayList<>();
      client.spool().read(-1, e -> spooled.add(((StepSummary) e.event().getPayload()).getStep()));
      assertThat(spooled).containsExactly(1L, 2L, 3L);
    }
  }

  @Test
  void anEventThatFailsAtOnceWaitsForOlderEventsStillWithTheProducer() throws Exception {
    try (LedgerClient client = client(true)) {
      CompletableFuture<Receipt> first = client.stepSummary("r1", step(1)); // waits for the broker
      producer.sendException = new TimeoutException("metadata not available"); // the next send fails in send() itself
      CompletableFuture<Receipt> second = client.stepSummary("r1", step(2));
      producer.sendException = null;
      assertThat(second).as("held until step 1 is resolved").isNotDone();
      producer.errorNext(new TimeoutException("delivery timed out"));
      for (CompletableFuture<Receipt> r : List.of(first, second)) {
        assertThat(r.get(5, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.SPOOLED);
      }
      List<Long> spooled = new ArrayList<>();
      client.spool().read(-1, e -> spooled.add(((StepSummary) e.event().getPayload()).getStep()));
      assertThat(spooled).containsExactly(1L, 2L);
    }
  }

  @Test
  void statsCountEachEventByItsOutcomeOnce() throws Exception {
    try (LedgerClient client = client(true)) {
      assertThat(client.stats()).isEqualTo(new LedgerClient.Stats(0, 0, 0));
      CompletableFuture<Receipt> ok = client.stepSummary("r1", step(1));
      CompletableFuture<Receipt> tooBig = client.stepSummary("r1", step(2));
      assertThat(client.stats().settled()).as("nothing settled while in flight").isZero();
      producer.completeNext();
      producer.errorNext(new RecordTooLargeException("too big"));
      assertThat(ok.get(5, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.PUBLISHED);
      assertThat(tooBig).failsWithin(Duration.ofSeconds(5));
      synchronized (shipped) { // keep the drain from shipping while the spooled count is checked
        CompletableFuture<Receipt> down = client.stepSummary("r1", step(3));
        producer.errorNext(new TimeoutException("broker down"));
        assertThat(down.get(5, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.SPOOLED);
        assertThat(client.stats()).isEqualTo(new LedgerClient.Stats(1, 1, 1));
        assertThat(client.stats().settled()).isEqualTo(3);
      }
    }
    LedgerClient closed = client(false);
    closed.close();
    assertThat(closed.stepSummary("r1", step(4))).isCompletedExceptionally();
    assertThat(closed.stats()).isEqualTo(new LedgerClient.Stats(0, 0, 1));
  }

  /**
   * Publishing takes no lock while online: threads publishing side by side while the "broker"
   * acknowledges some sends and times others out, so that the client keeps switching between
   * the broker and the spool. Every event settles exactly once, each spooled event is shipped
   * once, and each thread's spooled events keep its order.
   */
  @Test
  void threadsPublishingWhileTheBrokerComesAndGoesSettleEveryEventOnceAndKeepEachThreadsOrder() throws Exception {
    int threads = 4;
    int perThread = 1500;
    try (LedgerClient client = client(true)) {
      ConcurrentHashMap<String, CompletableFuture<Receipt>> receipts = new ConcurrentHashMap<>();
      AtomicBoolean publishing = new AtomicBoolean(true);
      Thread broker = new Thread(() -> {
        SplittableRandom random = new SplittableRandom(11);
        while (publishing.get()) {
          boolean any = random.nextInt(10) < 3 ? producer.errorNext(new TimeoutException("broker down")) : producer.completeNext();
          if (!any) {
            Thread.onSpinWait();
          }
        }
      });
      broker.start();
      List<Thread> publishers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String run = "r" + t;
        Thread p = new Thread(() -> {
          for (int i = 0; i < perThread; i++) {
            CompletableFuture<Receipt> r = client.stepSummary(run, step(i));
            receipts.put(run + "/" + i, r);
          }
        });
        publishers.add(p);
        p.start();
      }
      for (Thread p : publishers) {
        p.join();
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> receipts.values().stream().allMatch(CompletableFuture::isDone));
      publishing.set(false);
      broker.join();
      await().atMost(Duration.ofSeconds(30)).until(() -> !client.spooling());

      long spooledReceipts = receipts.values().stream().filter(r -> r.join().outcome() == Receipt.Outcome.SPOOLED).count();
      assertThat(receipts).hasSize(threads * perThread);
      assertThat(client.stats()).isEqualTo(new LedgerClient.Stats(threads * perThread - spooledReceipts, spooledReceipts, 0));
      assertThat(spooledReceipts).as("the broker timed some out").isPositive();
      List<String> shippedIds;
      synchronized (shipped) {
        shippedIds = shipped.stream().map(EventEnvelope::getEventId).toList();
        assertThat(shippedIds).doesNotHaveDuplicates().hasSize((int) spooledReceipts);
        Map<String, Long> lastStep = new HashMap<>();
        for (EventEnvelope e : shipped) {
          long s = ((StepSummary) e.getPayload()).getStep();
          Long before = lastStep.put(e.getSubject(), s);
          assertThat(before == null || before < s).as("%s step %d shipped after step %d", e.getSubject(), s, before).isTrue();
        }
      }
      assertThat(shippedIds).containsExactlyInAnyOrderElementsOf(receipts.values().stream().map(CompletableFuture::join)
          .filter(r -> r.outcome() == Receipt.Outcome.SPOOLED).map(Receipt::eventId).toList());
    }
  }
}
