/**
 * Words too common to say anything in a word cloud, per language. Short lists written for this project
 * (the most frequent function words of each language, no third-party list; same licence as the wall):
 * see docs/page.md, "Word cloud". Words of any language are checked against every list, because a
 * post's detected language is a guess and short posts mix them.
 */

const LISTS = {
  en: "a about after all also am an and any are as at be because been but by can could did do does for from get got had has have he her here him his how i if in into is it its just like me more most my no not now of on one only or our out over she so some than that the their them then there these they this to too up us very was we were what when where which who why will with would you your im it's i'm dont don't can't thats that's rt via amp new today",
  de: "aber als am an auch auf aus bei bin bis bist da das dass dem den der des die dir doch du ein eine einem einen einer es für hat hatte ich ihr im in ist ja jetzt kann mit mich mir nach nicht noch nur ob oder schon sehr sich sie sind so über um und uns von vor war was weil wenn wie wir wird zu zum zur",
  fr: "à au aux avec ce ces cette c'est dans de des du elle en est et être il ils je j'ai la le les leur lui ma mais me mes moi mon ne nos nous on ou où par pas pour plus qu que qui sa se ses son sont sur ta te tes toi ton tu un une vos vous y",
  es: "a al algo como con de del el ella ellos en era es esta está este esto fue ha hay la las le lo los me mi muy más no nos o para pero por que qué se ser si sí sin sobre su sus también te tu un una uno y ya yo",
  fi: "ei en et ette he hän ja jo joka jos kanssa kun kuin me minä mitä mutta myös ne niin nyt oli olla olen on ovat se sen sinä siis siitä tai te tämä tässä vaan vai voi että mä sä ja on",
  sv: "alla att av barn bara de dem den denna det detta där du efter ej eller en ett för från har hon hade han här i inte jag kan man med men mig min mitt nu när och om på sig sin sitt som så till under upp ut var vi vid är över",
};

/** @type {Map<string, Set<string>>} */
const SETS = new Map(Object.entries(LISTS).map(([lang, words]) => [lang, new Set(words.split(" "))]));
const ALL = new Set([...SETS.values()].flatMap((s) => [...s]));

/** The languages a list ships for. */
export const LANGUAGES = [...SETS.keys()];

/** Whether `word` (lower case) is a stop word in `lang`, or in any shipped list when `lang` is unknown. */
export function isStopWord(word, lang = "") {
  const set = SETS.get(lang);
  return (set ? set.has(word) : false) || ALL.has(word);
}
