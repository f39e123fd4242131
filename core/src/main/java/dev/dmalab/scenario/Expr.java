package dev.dmalab.scenario;

import dev.dmalab.util.Bits;
import java.util.ArrayList;
import java.util.List;

/**
 * An integer expression of the scenario language, parsed once when the file is loaded and evaluated at each
 * execution of its step (loop variables change between executions). The grammar:
 *
 * <pre>
 * expr    := term (('+' | '-') term)*
 * term    := unary (('*' | '/' | '%') unary)*
 * unary   := '-' unary | primary
 * primary := NUMBER | VARIABLE | FUNCTION '(' name (',' expr)? ')' | '(' expr ')'
 * name    := IDENT ('[' expr ']')?
 * </pre>
 *
 * Numbers are decimal, {@code 0x} hex, or with a K/M/G binary suffix ({@code 4K}). Variables are the loop
 * variables in scope, the scenario's {@code vars}, and the machine's constants ({@code page_size},
 * {@code cache_line}, {@code cache_size}, {@code cpus}, {@code DMA_MAPPING_ERROR}). Functions read the run's state:
 * {@code dma(h)} (a mapping's DMA address; {@code dma(s, i)}: segment i of a mapped scatterlist), {@code len(h)},
 * {@code phys(b)} and {@code virt(b)} (a buffer's physical and kernel virtual address), {@code ents(s)} (the
 * segments {@code dma_map_sg} returned). Arithmetic is on signed 64-bit values; overflow and division by zero are
 * errors of the step that evaluates them.
 */
interface Expr {
    /** What an expression can read at run time. */
    interface Env {
        /** The value of variable {@code name}; throws {@link IllegalArgumentException} if there is none. */
        long variable(String name);

        /** Function {@code fn} applied to the object called {@code name} (and an optional index, else -1). */
        long call(String fn, String name, long index);
    }

    long eval(Env env);

    /** The expression's source text, for messages. */
    String text();

    /** The functions an expression may call. */
    List<String> FUNCTIONS = List.of("dma", "len", "phys", "virt", "ents");

    /** A name, possibly indexed ({@code rx[i % 8]}): evaluates to the text {@code rx[3]}. */
    interface Name {
        String eval(Env env);

        String text();
    }

    /** Parses {@code text}; throws {@link IllegalArgumentException} with the reason. */
    static Expr parse(String text) {
        Parser p = new Parser(text);
        Expr e = p.expr();
        p.end();
        return e;
    }

    /** Parses a name such as {@code rx} or {@code rx[i + 1]}. */
    static Name parseName(String text) {
        Parser p = new Parser(text);
        Name n = p.name();
        p.end();
        return n;
    }

    /** A recursive-descent parser over the text; positions in messages are 1-based columns. */
    final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        private void skip() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private boolean eat(char c) {
            skip();
            if (pos < s.length() && s.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException(
                    "in expression '" + s + "': " + what + " at column " + (Math.min(pos, s.length()) + 1));
        }

        void end() {
            skip();
            if (pos != s.length()) {
                throw error("unexpected '" + s.charAt(pos) + "'");
            }
        }

        Expr expr() {
            Expr left = term();
            while (true) {
                if (eat('+')) {
                    Expr a = left;
                    Expr b = term();
                    left = new Op(a, b, '+', s);
                } else if (eat('-')) {
                    Expr a = left;
                    Expr b = term();
                    left = new Op(a, b, '-', s);
                } else {
                    return left;
                }
            }
        }

        private Expr term() {
            Expr left = unary();
            while (true) {
                char c;
                if (eat('*')) {
                    c = '*';
                } else if (eat('/')) {
                    c = '/';
                } else if (eat('%')) {
                    c = '%';
                } else {
                    return left;
                }
                left = new Op(left, unary(), c, s);
            }
        }

        private Expr unary() {
            if (eat('-')) {
                Expr inner = unary();
                return new Op(new Const(0, "0"), inner, '-', s);
            }
            return primary();
        }

        private Expr primary() {
            skip();
            if (eat('(')) {
                Expr e = expr();
                if (!eat(')')) {
                    throw error("expected ')'");
                }
                return e;
            }
            if (pos >= s.length()) {
                throw error("expected a number, a variable or a function");
            }
            char c = s.charAt(pos);
            if (Character.isDigit(c)) {
                int start = pos;
                while (pos < s.length() && Character.isLetterOrDigit(s.charAt(pos))) {
                    pos++;
                }
                String num = s.substring(start, pos);
                try {
                    return new Const(Bits.parseSize(num), num);
                } catch (NumberFormatException | ArithmeticException e) {
                    pos = start;
                    throw error("bad number '" + num + "'");
                }
            }
            if (Character.isLetter(c) || c == '_') {
                String id = ident();
                if (eat('(')) {
                    if (!FUNCTIONS.contains(id)) {
                        throw error("unknown function '" + id + "' (known: " + String.join(", ", FUNCTIONS) + ")");
                    }
                    Name n = name();
                    Expr index = null;
                    if (eat(',')) {
                        index = expr();
                    }
                    if (!eat(')')) {
                        throw error("expected ')'");
                    }
                    return new Call(id, n, index, s);
                }
                return new Var(id);
            }
            throw error("unexpected '" + c + "'");
        }

        private String ident() {
            skip();
            int start = pos;
            while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
                pos++;
            }
            if (start == pos || Character.isDigit(s.charAt(start))) {
                pos = start;
                throw error("expected a name");
            }
            return s.substring(start, pos);
        }

        Name name() {
            skip();
            int start = pos;
            while (pos < s.length()
                    && (Character.isLetterOrDigit(s.charAt(pos))
                            || s.charAt(pos) == '_'
                            || s.charAt(pos) == '-'
                            || s.charAt(pos) == '.')) {
                pos++;
            }
            if (start == pos) {
                throw error("expected a name");
            }
            String base = s.substring(start, pos);
            if (eat('[')) {
                Expr index = expr();
                if (!eat(']')) {
                    throw error("expected ']'");
                }
                String text = s.substring(start, pos);
                return new Name() {
                    @Override
                    public String eval(Env env) {
                        return base + "[" + index.eval(env) + "]";
                    }

                    @Override
                    public String text() {
                        return text;
                    }
                };
            }
            return new Name() {
                @Override
                public String eval(Env env) {
                    return base;
                }

                @Override
                public String text() {
                    return base;
                }
            };
        }
    }

    record Const(long value, String text) implements Expr {
        @Override
        public long eval(Env env) {
            return value;
        }
    }

    record Var(String text) implements Expr {
        @Override
        public long eval(Env env) {
            return env.variable(text);
        }
    }

    record Call(String fn, Name name, Expr index, String source) implements Expr {
        @Override
        public long eval(Env env) {
            return env.call(fn, name.eval(env), index == null ? -1 : index.eval(env));
        }

        @Override
        public String text() {
            return source;
        }
    }

    record Op(Expr a, Expr b, char op, String source) implements Expr {
        @Override
        public long eval(Env env) {
            long x = a.eval(env);
            long y = b.eval(env);
            try {
                return switch (op) {
                    case '+' -> Math.addExact(x, y);
                    case '-' -> Math.subtractExact(x, y);
                    case '*' -> Math.multiplyExact(x, y);
                    case '/' -> x / y;
                    default -> x % y;
                };
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("in expression '" + source + "': "
                        + (y == 0 && (op == '/' || op == '%') ? "division by zero" : "overflow"));
            }
        }

        @Override
        public String text() {
            return source;
        }
    }

    /** The variables an expression reads (for load-time checks). */
    static List<String> variables(Expr e) {
        List<String> out = new ArrayList<>();
        collect(e, out);
        return out;
    }

    private static void collect(Expr e, List<String> out) {
        if (e instanceof Var v) {
            out.add(v.text());
        } else if (e instanceof Op o) {
            collect(o.a(), out);
            collect(o.b(), out);
        } else if (e instanceof Call c && c.index() != null) {
            collect(c.index(), out);
        }
    }
}
