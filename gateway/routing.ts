/**
 * Routing rules (`gateway.routing`): which team a new conversation goes to, from its first
 * message, the page the visitor is on and their language. Rules are tried in order; every
 * condition a rule gives must hold; the first rule that matches wins, `gateway.default_team`
 * otherwise. Regexes are compiled once (and were checked when the config loaded).
 */
import type { GatewaySettings } from './settings.js';

/** What the visitor's site tells about the page a conversation starts on (the `page` of a first `msg`). */
export interface PageInfo {
  url?: string;
  /** BCP 47 tag, e.g. `zh-CN`. */
  language?: string;
  /** Where the chat runs: `web`, `app`, `wechat`… (reported to analytics). */
  channel?: string;
}

export interface RoutingInput {
  firstText: string;
  page: PageInfo;
}

export interface RoutingDecision {
  team: string;
  /** Index of the rule that matched; null when the default team was used. */
  rule: number | null;
}

interface CompiledRule {
  team: string;
  match?: RegExp;
  page?: RegExp;
  languages?: string[];
}

/** `zh` matches `zh`, `zh-CN` and `zh-Hant-TW`; `zh-CN` matches only itself (and longer tags under it). */
export function languageMatches(wanted: string, actual: string): boolean {
  const w = wanted.toLowerCase();
  const a = actual.toLowerCase();
  return a === w || a.startsWith(`${w}-`);
}

/** Compiles the rules once; the returned function decides a conversation's team. */
export function compileRouting(settings: Pick<GatewaySettings, 'routing' | 'default_team'>): (input: RoutingInput) => RoutingDecision {
  const rules: CompiledRule[] = settings.routing.map((r) => ({
    team: r.team,
    ...(r.match !== undefined ? { match: new RegExp(r.match, 'iu') } : {}),
    ...(r.page !== undefined ? { page: new RegExp(r.page, 'iu') } : {}),
    ...(r.language !== undefined ? { languages: [...r.language] } : {}),
  }));
  return ({ firstText, page }) => {
    for (const [i, r] of rules.entries()) {
      if (r.match && !r.match.test(firstText)) continue;
      if (r.page && (page.url === undefined || !r.page.test(page.url))) continue;
      const language = page.language;
      if (r.languages && (language === undefined || !r.languages.some((l) => languageMatches(l, language)))) continue;
      return { team: r.team, rule: i };
    }
    return { team: settings.default_team, rule: null };
  };
}
