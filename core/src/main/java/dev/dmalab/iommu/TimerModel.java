package dev.dmalab.iommu;

import dev.dmalab.util.SeededRandom;

/**
 * When a kernel timer or delayed work armed "{@code delay} ms from now" actually runs: the flush-queue timer of
 * lazy dma-iommu ({@code mod_timer(&cookie->fq_timer, jiffies + msecs_to_jiffies(10))}) and the rcache depot work
 * ({@code schedule_delayed_work(&rcache->work, msecs_to_jiffies(100))}).
 *
 * <p>The nominal delay is rarely what happens: timers fire on a jiffy tick (4 ms at {@code HZ=250}, Debian's),
 * and under emulation or load softirqs run late (validated-iova §8). This is therefore a parameter of the model:
 *
 * <ul>
 *   <li>{@code fixed}: exactly the nominal delay;
 *   <li>{@code jiffies:HZ}: on the tick {@code msecs_to_jiffies(delay)} ticks after the current one, as a level-0
 *       timer-wheel timer fires;
 *   <li>{@code late:HZ:MAXMS:SEED}: the jiffy expiry plus a lateness drawn uniformly from {@code [0, MAXMS]} ms by a
 *       seeded generator (replayable).
 * </ul>
 *
 * <p>Deliberate differences: the timer wheel's coarser levels (timeouts of 64 jiffies and more land on a coarser
 * granularity) are not modelled; the 100 ms depot delay is 25 jiffies at HZ=250, inside level 0.
 */
public abstract class TimerModel {
    private final String spec;

    private TimerModel(String spec) {
        this.spec = spec;
    }

    /** The simulated time at which a timer armed at {@code nowNs} for {@code delayMs} runs. */
    public abstract long expiryNs(long nowNs, long delayMs);

    /** The parameter text this model was made from. */
    public String spec() {
        return spec;
    }

    @Override
    public String toString() {
        return spec;
    }

    /** The nominal delay, to the nanosecond. */
    public static TimerModel fixed() {
        return new TimerModel("fixed") {
            @Override
            public long expiryNs(long nowNs, long delayMs) {
                return nowNs + delayMs * 1_000_000L;
            }
        };
    }

    /** Jiffy-quantised at {@code hz} ticks per second. */
    public static TimerModel jiffies(int hz) {
        if (hz < 100 || hz > 1000) {
            throw new IllegalArgumentException("HZ must be 100..1000, got " + hz);
        }
        long tickNs = 1_000_000_000L / hz;
        return new TimerModel("jiffies:" + hz) {
            @Override
            public long expiryNs(long nowNs, long delayMs) {
                long ticks = (delayMs * hz + 999) / 1000; // msecs_to_jiffies rounds up
                return (nowNs / tickNs + ticks) * tickNs;
            }
        };
    }

    /** Jiffy-quantised, then late by a uniform {@code [0, maxLateMs]} ms from a generator seeded with {@code seed}. */
    public static TimerModel late(int hz, double maxLateMs, long seed) {
        if (!(maxLateMs >= 0) || maxLateMs > 10_000) {
            throw new IllegalArgumentException("lateness must be 0..10000 ms, got " + maxLateMs);
        }
        TimerModel base = jiffies(hz);
        SeededRandom random = new SeededRandom(seed);
        long maxLateNs = Math.round(maxLateMs * 1_000_000);
        return new TimerModel("late:" + hz + ":" + maxLateMs + ":" + seed) {
            @Override
            public long expiryNs(long nowNs, long delayMs) {
                long late = maxLateNs == 0 ? 0 : random.nextLong(0, maxLateNs + 1);
                return base.expiryNs(nowNs, delayMs) + late;
            }
        };
    }

    /**
     * Parses {@code fixed}, {@code jiffies:HZ} or {@code late:HZ:MAXMS:SEED}.
     *
     * @throws IllegalArgumentException with a message saying what was expected
     */
    public static TimerModel parse(String text) {
        String[] p = text.trim().split(":");
        try {
            switch (p[0]) {
                case "fixed":
                    if (p.length == 1) {
                        return fixed();
                    }
                    break;
                case "jiffies":
                    if (p.length == 2) {
                        return jiffies(Integer.parseInt(p[1]));
                    }
                    break;
                case "late":
                    if (p.length == 4) {
                        return late(Integer.parseInt(p[1]), Double.parseDouble(p[2]), Long.parseLong(p[3]));
                    }
                    break;
                default:
                    break;
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad number in timer model '" + text + "'");
        }
        throw new IllegalArgumentException(
                "timer model must be fixed, jiffies:HZ or late:HZ:MAXMS:SEED, got '" + text + "'");
    }
}
