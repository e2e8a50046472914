// A check's cause and action, and the recommendation's reasons, in the UI's language. The core
// sends codes with their values (`Cause`, `Action`, `RecommendationReason` in the bindings);
// the words are in messages/findings-*.ts, one entry per code, complete by type.
import type { Action, Cause, RecommendationReason } from "./bindings";
import type { Lang } from "./i18n";
import { actionDe, causeDe, recommendationDe } from "./messages/findings-de";
import { actionEn, causeEn, recommendationEn, type Words } from "./messages/findings-en";

const causes: Record<Lang, Words<Cause>> = { en: causeEn, de: causeDe };
const actions: Record<Lang, Words<Action>> = { en: actionEn, de: actionDe };
const recommendations: Record<Lang, Record<RecommendationReason, string>> = { en: recommendationEn, de: recommendationDe };

function word<T extends { code: string }>(words: Words<T>, value: T): string {
  const f = words[value.code as T["code"]] as (p: T) => string;
  return f(value);
}

export function causeText(cause: Cause | null | undefined, lang: Lang): string | null {
  return cause ? word(causes[lang], cause) : null;
}

export function actionText(action: Action | null | undefined, lang: Lang): string | null {
  return action ? word(actions[lang], action) : null;
}

export function recommendationText(reason: RecommendationReason, lang: Lang): string {
  return recommendations[lang][reason];
}
