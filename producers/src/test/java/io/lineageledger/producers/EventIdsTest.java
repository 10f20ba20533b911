package io.lineageledger.producers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

class EventIdsTest {
  private static long millis(String id) {
    return UUID.fromString(id).getMostSignificantBits() >>> 16;
  }

  @Test
  void idsAreVersion7AndCarryTheirMillisecond() {
    EventIds ids = new EventIds();
    long now = 1_790_000_000_123L;
    String id = ids.next(now);
    assertThat(EventIds.isUuidV7(id)).isTrue();
    assertThat(millis(id)).isEqualTo(now);
  }

  @Test
  void idsFromOneGeneratorStrictlyIncreaseEvenWhenAMillisecondRunsOutOfCounter() {
    EventIds ids = new EventIds();
    long now = 1_790_000_000_000L;
    List<String> list = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) { // more than the 4,096 a millisecond's counter holds
      list.add(ids.next(now));
    }
    list.add(ids.next(now - 5)); // a clock that steps back does not break the order either
    for (int i = 1; i < list.size(); i++) {
      assertThat(list.get(i).compareTo(list.get(i - 1))).as("id %d after id %d", i, i - 1).isPositive();
      assertThat(EventIds.isUuidV7(list.get(i))).isTrue();
    }
    assertThat(millis(list.get(0))).isEqualTo(now);
    assertThat(millis(list.get(list.size() - 1))).as("borrowed milliseconds").isGreaterThan(now);
  }

  @Test
  void concurrentCallersGetDistinctIdsEachInOrder() throws InterruptedException {
    EventIds ids = new EventIds();
    ConcurrentLinkedQueue<String> all = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    List<List<String>> perThread = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      List<String> mine = new ArrayList<>();
      perThread.add(mine);
      threads.add(new Thread(() -> {
        for (int i = 0; i < 20_000; i++) {
          String id = ids.next();
          mine.add(id);
          all.add(id);
        }
      }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    Set<String> distinct = new HashSet<>(all);
    assertThat(distinct).hasSize(80_000);
    for (List<String> mine : perThread) {
      for (int i = 1; i < mine.size(); i++) {
        assertThat(mine.get(i).compareTo(mine.get(i - 1))).isPositive();
      }
    }
  }
}
