package dev.dmalab.kernel;

import dev.dmalab.util.SimClock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The kernel log: every line with its simulated timestamp and level, in order. Provides the helpers the modelled
 * code uses: {@code dev_*} prefixes, {@code WARN_ONCE}, and {@code *_ratelimited} with the kernel's default
 * limit of 10 messages per 5 seconds per call site.
 */
public final class Printk {
    /** printk levels, as {@code KERN_*}. */
    public enum Level {
        EMERG,
        ALERT,
        CRIT,
        ERR,
        WARNING,
        NOTICE,
        INFO,
        DEBUG
    }

    /** One log line. */
    public record Line(long timeNs, Level level, String text) {
        /** The dmesg form: {@code [    1.234567] text}. */
        public String dmesg() {
            long us = timeNs / 1000;
            return String.format("[%5d.%06d] %s", us / 1_000_000, us % 1_000_000, text);
        }
    }

    /** {@code DEFAULT_RATELIMIT_INTERVAL} (5 s) and {@code DEFAULT_RATELIMIT_BURST} (10). */
    public static final long RATELIMIT_INTERVAL_NS = 5_000_000_000L;

    public static final int RATELIMIT_BURST = 10;

    private final SimClock clock;
    private final List<Line> lines = new ArrayList<>();
    private final Set<String> warnedOnce = new HashSet<>();
    private final java.util.Map<String, long[]> rateLimits = new java.util.HashMap<>();
    private long suppressed;

    public Printk(SimClock clock) {
        this.clock = clock;
    }

    public void log(Level level, String text) {
        lines.add(new Line(clock.nowNs(), level, text));
    }

    public void err(String text) {
        log(Level.ERR, text);
    }

    public void warn(String text) {
        log(Level.WARNING, text);
    }

    public void info(String text) {
        log(Level.INFO, text);
    }

    /**
     * {@code dev_printk}: prefixes the driver name (or the bus name when no driver is bound) and the device name,
     * as {@code "virtio-pci 0000:00:02.0: ..."}.
     */
    public void dev(Level level, String driverName, String deviceName, String text) {
        log(level, (driverName == null || driverName.isEmpty() ? "" : driverName + " ") + deviceName + ": " + text);
    }

    /**
     * {@code WARN_ONCE(cond, ...)} at {@code site}: logs the warning banner and text the first time only.
     *
     * @return true if this call printed
     */
    public boolean warnOnce(String site, String text) {
        if (!warnedOnce.add(site)) {
            return false;
        }
        log(Level.WARNING, "WARNING: at " + site);
        log(Level.WARNING, text);
        return true;
    }

    /**
     * Rate limit per call site, as {@code ___ratelimit()}: at most {@link #RATELIMIT_BURST} messages per {@link
     * #RATELIMIT_INTERVAL_NS}, measured from the first message of the window; a new window starts only once time
     * is strictly past the old one's end.
     *
     * @return true if the caller may print now
     */
    public boolean ratelimit(String site) {
        long now = clock.nowNs();
        long[] state = rateLimits.computeIfAbsent(site, k -> new long[] {now, 0});
        if (now - state[0] > RATELIMIT_INTERVAL_NS) { // time_is_before_jiffies(begin + interval): strictly after
            state[0] = now;
            state[1] = 0;
        }
        if (state[1] < RATELIMIT_BURST) {
            state[1]++;
            return true;
        }
        suppressed++;
        return false;
    }

    public List<Line> lines() {
        return Collections.unmodifiableList(lines);
    }

    /** Messages a rate limit suppressed. */
    public long suppressed() {
        return suppressed;
    }

    /** The log in dmesg form, one line each. */
    public String dmesg() {
        StringBuilder sb = new StringBuilder();
        for (Line l : lines) {
            sb.append(l.dmesg()).append('\n');
        }
        return sb.toString();
    }
}
