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
            return String.format(java.util.Locale.ROOT, "[%5d.%06d] %s", us / 1_000_000, us % 1_000_000, text);
        }
    }

    /** {@code DEFAULT_RATELIMIT_INTERVAL} (5 s) and {@code DEFAULT_RATELIMIT_BURST} (10). */
    public static final long RATELIMIT_INTERVAL_NS = 5_000_000_000L;

    public static final int RATELIMIT_BURST = 10;

    private final SimClock clock;
    private final ExecContext context;
    private final List<Line> lines = new ArrayList<>();
    private final Set<String> onceFlags = new HashSet<>();
    private final java.util.Map<String, long[]> rateLimits = new java.util.HashMap<>();
    private long suppressed;

    public Printk(SimClock clock, ExecContext context) {
        this.clock = clock;
        this.context = context;
    }

    /** A log for one CPU with the default task (tests). */
    public Printk(SimClock clock) {
        this(clock, new ExecContext(1));
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
     * The {@code _once} flag of one call site: true the first time {@code callSite} asks, false after. Call-site
     * keys are internal (never printed); one key per macro expansion in the kernel source.
     */
    public boolean once(String callSite) {
        return onceFlags.add(callSite);
    }

    /**
     * {@code WARN()} / {@code dev_WARN()}: the message (if any) followed by the warning banner {@code WARNING: CPU: n
     * PID: p at <location>} of the current context. {@code location} names the source file and function (the model
     * has no line numbers).
     */
    public void warnAt(String location, String message) {
        if (message != null && !message.isEmpty()) {
            log(Level.WARNING, message);
        }
        log(Level.WARNING, "WARNING: CPU: " + context.cpu() + " PID: " + context.pid() + " at " + location);
    }

    /** {@code WARN_ONCE} / {@code WARN_ON_ONCE} / {@code dev_WARN_ONCE}: {@link #warnAt} the first time only. */
    public boolean warnOnce(String callSite, String location, String message) {
        if (!once(callSite)) {
            return false;
        }
        warnAt(location, message);
        return true;
    }

    /** {@code dev_err_once} / {@code pr_warn_once}: the text at {@code level}, the first time only, no banner. */
    public boolean logOnce(String callSite, Level level, String text) {
        if (!once(callSite)) {
            return false;
        }
        log(level, text);
        return true;
    }

    /**
     * {@code ___ratelimit()} with the state of {@code site}: at most {@link #RATELIMIT_BURST} messages per {@link
     * #RATELIMIT_INTERVAL_NS}, the window opening again strictly after its start plus the interval. When a window
     * closes with messages suppressed, the kernel reports {@code "<func>: N callbacks suppressed"}.
     *
     * @param function the name the suppression report gives (the caller's {@code __func__})
     * @return true if the caller may print now
     */
    public boolean ratelimit(String site, String function) {
        long now = clock.nowNs();
        long[] state = rateLimits.computeIfAbsent(site, k -> new long[] {now, 0, 0});
        if (now - state[0] > RATELIMIT_INTERVAL_NS) { // time_is_before_jiffies(begin + interval): strictly after
            if (state[2] > 0) {
                log(Level.WARNING, function + ": " + state[2] + " callbacks suppressed");
            }
            state[0] = now;
            state[1] = 0;
            state[2] = 0;
        }
        if (state[1] < RATELIMIT_BURST) {
            state[1]++;
            return true;
        }
        state[2]++;
        suppressed++;
        return false;
    }

    /** {@link #ratelimit(String, String)} for a site named after its function. */
    public boolean ratelimit(String site) {
        return ratelimit(site, site);
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
