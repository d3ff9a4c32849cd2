// The prompt templates of the auto-routing evaluation set (scripts/auto-route/build-eval-set.ts),
// each labelled with the cheapest tier expected to answer it well by the rubric in
// docs/auto-routing-eval.md. The label belongs to the template; fillers only vary the wording and
// the subject. No source outside this file: every prompt is written here.
import type { EvalMessage } from '../../src/routing/auto/evaluate.ts';

export type Label = 'simple' | 'medium' | 'complex';

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  pick<T>(items: readonly T[]): T;
  integer(low: number, high: number): number;
}

export interface Template {
  category: string;
  label: Label;
  /** How many rows to draw from it. */
  count: number;
  make(random: Random): string | EvalMessage[];
}

const countries = ['France', 'Japan', 'Kenya', 'Peru', 'Canada', 'Norway', 'Vietnam', 'Egypt', 'Chile', 'Poland', 'Ghana', 'Portugal', 'Thailand', 'Mexico', 'Finland', 'Morocco'];
const languages = ['French', 'Spanish', 'German', 'Japanese', 'Italian', 'Portuguese', 'Dutch', 'Korean', 'Polish', 'Turkish'];
const animals = ['cats', 'penguins', 'octopuses', 'giraffes', 'owls', 'dogs', 'goats', 'llamas', 'otters', 'sloths'];
const books = ['Pride and Prejudice', 'Moby-Dick', 'One Hundred Years of Solitude', 'The Trial', 'Things Fall Apart', 'Beloved', 'Don Quixote', 'War and Peace', 'The Left Hand of Darkness', 'Middlemarch'];
const shortSentences = ['Where is the nearest train station?', 'I would like a table for two, please.', 'The meeting has been moved to Thursday.', 'Could you send me the invoice again?', 'My flight was delayed by three hours.', 'Please keep the door closed.', 'We are out of milk.', 'The museum opens at nine.', 'I forgot my umbrella at the office.', 'Happy birthday, have a wonderful day!'];
const languagesCode = ['Python', 'TypeScript', 'Go', 'Rust', 'Java', 'C#', 'Kotlin', 'Ruby'];
const dataTasks = ['removes duplicates from a list while keeping the original order', 'parses an ISO 8601 date string and returns the weekday', 'counts word frequencies in a text file and prints the top 10', 'validates an email address with a reasonable regex', 'merges two sorted arrays into one sorted array', 'flattens a nested dictionary into dot-separated keys', 'reads a CSV file and sums the values of one column', 'retries an HTTP request up to three times with exponential backoff', 'converts a Roman numeral to an integer', 'groups a list of records by a key and counts each group'];
const errors = ["TypeError: Cannot read properties of undefined (reading 'map')", "KeyError: 'user_id'", 'java.lang.NullPointerException at com.shop.Cart.total(Cart.java:42)', 'error[E0502]: cannot borrow `v` as mutable because it is also borrowed as immutable', 'panic: runtime error: index out of range [3] with length 3', "ModuleNotFoundError: No module named 'requests'", 'SyntaxError: Unexpected token } in JSON at position 118', 'fatal: refusing to merge unrelated histories'];
const systems = ['a URL shortener serving 50,000 redirects per second', 'a multi-tenant job queue with per-tenant fairness and exactly-once processing', 'a collaborative text editor with offline edits and conflict-free merging', 'a rate limiter shared by 40 gateway instances with a 1% error budget', 'a payments ledger that must never double-spend across two regions', 'a log search service ingesting 2 TB a day with 30-day retention', 'a leaderboard for a game with 10 million daily players and anti-cheat checks', 'a feature-flag service evaluated on every request by 300 services', 'a ride-matching service that pairs drivers and riders within 2 seconds', 'an inventory system for 800 stores that must never oversell', 'a notification service sending 100 million push messages a day with per-user quiet hours', 'a metrics pipeline with exactly-once aggregation and late data'];
const elements = ['sodium', 'iron', 'tungsten', 'potassium', 'silver', 'lead', 'tin', 'mercury', 'gold', 'copper'];
const reactions = ['the acid-catalysed hydration of 2-methylpropene', 'the Cannizzaro reaction of benzaldehyde', 'the Fischer esterification of acetic acid with ethanol', 'the Diels-Alder reaction of cyclopentadiene with maleic anhydride', 'the base-catalysed aldol condensation of acetone', 'the Grignard addition of methylmagnesium bromide to cyclohexanone', 'the bromination of anisole', 'the pinacol rearrangement of 2,3-dimethylbutane-2,3-diol', 'the Baeyer-Villiger oxidation of cyclohexanone', 'the Hofmann elimination of N,N,N-trimethyl-2-butylammonium hydroxide'];
const targets = ['ibuprofen', 'paracetamol', 'lidocaine', 'aspirin', 'benzocaine', 'salbutamol', 'fluoxetine'];
const drugs = ['metformin', 'lisinopril', 'atorvastatin', 'amoxicillin', 'warfarin', 'levothyroxine', 'omeprazole', 'sertraline', 'furosemide', 'prednisone'];
const states = ['California', 'New York', 'Texas', 'Ontario', 'England and Wales', 'Bavaria', 'New South Wales', 'Illinois'];
const legalTerms = ['pro bono', 'habeas corpus', 'voir dire', 'amicus curiae', 'res judicata', 'mens rea', 'force majeure', 'stare decisis'];
const names = ['Alice', 'Bruno', 'Chen', 'Dana', 'Emeka', 'Farah', 'Goran', 'Hana', 'Ivan', 'Julia', 'Kofi', 'Lena'];
const topics = ['remote work', 'electric cars', 'urban gardening', 'the four-day week', 'public libraries', 'nuclear power', 'video games in schools', 'cashless payments'];
const products = ['noise-cancelling headphones', 'a standing desk', 'an e-reader', 'a robot vacuum', 'a mechanical keyboard', 'a rice cooker', 'a trail running shoe'];

const sentences = {
  report: ['Revenue in the third quarter rose 12% year on year, driven mainly by the enterprise segment.', 'Operating costs increased by 4%, largely due to higher cloud infrastructure spending.', 'The board approved a new share buyback programme of up to 200 million.', 'Customer churn in the consumer segment fell from 3.1% to 2.7% per month.', 'The company opened two new offices, in Lisbon and in Nairobi, adding 140 employees.', 'Management expects supply chain pressures to ease during the first half of next year.', 'Research and development spending reached 18% of revenue, the highest in five years.', 'A one-off restructuring charge of 35 million was recorded in the period.', 'Free cash flow was 410 million, compared with 365 million a year earlier.', 'The outlook for the full year was raised to revenue growth of 10 to 11%.'],
  contract: ['The Supplier shall deliver the Goods to the Delivery Address within 30 days of the Order Date.', 'Payment is due within 45 days of receipt of a valid invoice.', 'Either party may terminate this Agreement on 90 days written notice.', 'The Supplier warrants that the Goods are free from defects for a period of 12 months.', 'Neither party shall be liable for indirect or consequential loss.', 'The total liability of the Supplier shall not exceed the fees paid in the preceding 12 months.', 'This Agreement is governed by the laws of England and Wales.', 'Confidential Information shall not be disclosed to any third party without prior written consent.', 'The Customer may audit the Supplier once per calendar year on 14 days notice.', 'Any dispute shall first be referred to mediation before either party commences proceedings.'],
  meeting: ['Alice said the migration to the new database is two weeks behind schedule.', 'Bruno asked whether the marketing launch could move to the following month.', 'Chen reported that the mobile app crash rate dropped after the last release.', 'Dana raised a concern about the on-call rota being too thin in December.', 'The team agreed to freeze new features until the security review is finished.', 'Emeka will prepare a cost estimate for the additional storage by Friday.', 'Farah noted that two customers asked for single sign-on support.', 'It was decided to hire a contractor for the data pipeline work.', 'The next review meeting is scheduled for the 14th.', 'Goran will talk to finance about the budget for the conference.'],
  logs: ['2025-03-02T10:15:02Z INFO server started on port 8080', '2025-03-02T10:15:09Z INFO connected to database primary', '2025-03-02T10:16:44Z WARN slow query took 1840 ms: SELECT * FROM orders WHERE status = $1', '2025-03-02T10:17:01Z INFO GET /api/orders 200 32ms', '2025-03-02T10:17:05Z INFO POST /api/checkout 201 141ms', '2025-03-02T10:18:12Z WARN retrying payment provider call (attempt 2)', '2025-03-02T10:18:13Z INFO GET /healthz 200 1ms', '2025-03-02T10:19:30Z INFO cache hit ratio 0.87', '2025-03-02T10:20:02Z INFO GET /api/products 200 18ms', '2025-03-02T10:21:47Z INFO background job cleanup finished in 2.1 s'],
  article: ['Urban heat islands form when cities replace natural land cover with pavement and buildings.', 'These surfaces absorb and re-emit more heat than forests and water bodies.', 'Studies show that tree canopy can lower street-level temperatures by several degrees.', 'Cool roofs reflect more sunlight and reduce the energy needed for air conditioning.', 'Low-income neighbourhoods often have less green space and suffer higher temperatures.', 'Some cities now map heat exposure block by block to target interventions.', 'Green corridors also improve air quality and support biodiversity.', 'Critics argue that tree planting programmes rarely fund long-term maintenance.', 'Water features and shaded public spaces can provide relief during heatwaves.', 'Long-term planning must balance housing density with open space.'],
} as const;

/** Several KB of text of one kind, sentences drawn at random (a long-context body). */
function document(random: Random, kind: keyof typeof sentences, sentencesWanted: number): string {
  const bank = sentences[kind];
  const lines: string[] = [];
  for (let index = 0; index < sentencesWanted; index++) {
    let sentence: string = random.pick(bank);
    if (kind === 'logs' && random.next() < 0.02) sentence = '2025-03-02T10:22:10Z ERROR payment provider returned 503; order 88412 left pending';
    lines.push(kind === 'contract' ? `${index + 1}. ${sentence}` : sentence);
  }
  return lines.join(kind === 'logs' || kind === 'contract' ? '\n' : ' ');
}

const number = (random: Random, low: number, high: number) => String(random.integer(low, high));

function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random.next() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

export const TEMPLATES: readonly Template[] = [
  // chit-chat
  { category: 'chit-chat', label: 'simple', count: 14, make: (r) => r.pick(['hi there! how is your day going?', 'hello :) what are you up to today?', 'hey, good morning! any fun plans?', 'thanks, that really helped!', 'lol that was funny, thank you', 'good night, talk tomorrow!', 'hey, I am bored. say something cheerful?', 'cheers for the help earlier!', "what's up? feeling chatty today", 'how are you doing this fine weekend?', 'hello hello! happy friday!', 'thank you so much, you are awesome', 'haha nice one. bye for now!', 'good morning! it is sunny here']) },
  { category: 'chit-chat', label: 'simple', count: 12, make: (r) => `Tell me a ${r.pick(['short', 'silly', 'clean', 'quick'])} joke about ${r.pick(animals)}.` },
  { category: 'chit-chat', label: 'simple', count: 10, make: (r) => `What's a fun fact about ${r.pick(animals)}?` },
  { category: 'chit-chat', label: 'simple', count: 10, make: (r) => `Can you suggest a cute name for my new ${r.pick(['kitten', 'puppy', 'hamster', 'parrot', 'goldfish'])}? It is ${r.pick(['grey', 'orange', 'tiny', 'very loud', 'spotted'])}.` },
  { category: 'chit-chat', label: 'simple', count: 10, make: (r) => [
    { role: 'user', content: r.pick(['hi!', 'hey there', 'hello again', 'yo']) }, { role: 'assistant', content: 'Hello! How can I help you today?' },
    { role: 'user', content: `nothing much, just ${r.pick(['having coffee', 'waiting for a bus', 'back from a run', 'watching the rain', 'making pancakes', 'walking the dog', 'on my lunch break', 'stuck in traffic', 'folding laundry', 'listening to jazz'])}. ${r.pick(['how are you?', 'what about you?', 'how is your day?'])}` }] },
  { category: 'chit-chat', label: 'medium', count: 10, make: (r) => `I have ${r.pick(['a job interview', 'my driving test', 'a big presentation', 'my thesis defence', 'a piano recital', 'a difficult talk with my manager', 'a first date', 'a medical appointment'])} ${r.pick(['tomorrow', 'on Monday', 'this afternoon'])} and I keep overthinking it. Can you help me plan the evening so I can sleep well, and give me three things to say to myself if I panic?` },

  // factual look-ups
  { category: 'factual', label: 'simple', count: 12, make: (r) => `What is the capital of ${r.pick(countries)}?` },
  { category: 'factual', label: 'simple', count: 10, make: (r) => `Who wrote ${r.pick(books)}?` },
  { category: 'factual', label: 'simple', count: 10, make: (r) => `How many ${r.pick(['centimetres are in a metre', 'ounces are in a pound', 'seconds are in a day', 'days are in a leap year', 'sides does a hexagon have', 'players are on a football team', 'grams are in a kilogram', 'minutes are in a week', 'legs does a spider have', 'strings does a violin have', 'moons does Mars have', 'bones are in the human body', 'keys are on a piano'])}?` },
  { category: 'factual', label: 'simple', count: 8, make: (r) => `What does the abbreviation ${r.pick(['NASA', 'UNESCO', 'HTTP', 'DNA', 'GDP', 'ASAP', 'FAQ', 'PDF'])} stand for?` },
  { category: 'factual', label: 'medium', count: 10, make: (r) => `Explain why ${r.pick(['the sky is blue', 'seasons happen', 'bread rises', 'ice floats on water', 'we have leap years', 'the moon has phases', 'rainbows form', 'tides happen', 'planes can fly', 'leaves change colour in autumn'])}, in a ${r.pick(['short paragraph', 'paragraph'])} a curious twelve-year-old would follow.` },

  // translation
  { category: 'translation', label: 'simple', count: 16, make: (r) => `Translate to ${r.pick(languages)}: "${r.pick(shortSentences)}"` },
  { category: 'translation', label: 'simple', count: 8, make: (r) => `How do you say "${r.pick(['thank you very much', 'good luck', 'see you tomorrow', 'excuse me', 'I am lost'])}" in ${r.pick(languages)}?` },
  { category: 'translation', label: 'medium', count: 12, make: (r) => `Translate this product description into ${r.pick(languages)}, keeping the marketing tone and the bullet list:\n\nMeet our new ${r.pick(products)}.\n- Designed for all-day comfort\n- Battery that lasts a whole week\n- Ships free in two days\nYour everyday life, upgraded.` },
  { category: 'translation', label: 'medium', count: 8, make: (r) => `Translate into ${r.pick(languages)} and keep the legal meaning exact: "${r.pick(sentences.contract)} ${r.pick(sentences.contract)}"` },
  { category: 'translation', label: 'complex', count: 8, make: (r) => `Translate this poem into ${r.pick(languages)}, preserving the rhyme scheme (ABAB) and the iambic rhythm as far as the language allows, then explain each compromise you made:\n\nThe ${r.pick(['harbour', 'orchard', 'station', 'meadow'])} sleeps beneath a silver sky,\nthe gulls have folded every restless wing;\nI count the lanterns as the hours go by\nand wait for what the morning tide will bring.` },

  // summarisation
  { category: 'summarisation', label: 'simple', count: 12, make: (r) => `Summarise in one sentence: ${document(r, r.pick(['article', 'meeting'] as const), 4)}` },
  { category: 'summarisation', label: 'medium', count: 12, make: (r) => `Summarise this meeting transcript in five bullet points, then list every action item with its owner:\n\n${document(r, 'meeting', r.integer(25, 45))}` },
  { category: 'summarisation', label: 'medium', count: 10, make: (r) => `Write a 150-word executive summary of this quarterly report for the board:\n\n${document(r, 'report', r.integer(30, 60))}` },

  // extraction
  { category: 'extraction', label: 'simple', count: 12, make: (r) => `Extract all email addresses from this text: "Contact ${r.pick(names).toLowerCase()}@example.com for sales, or ${r.pick(names).toLowerCase()}.${r.pick(names).toLowerCase()}@corp.example.org for support. Press: press@example.net."` },
  { category: 'extraction', label: 'simple', count: 10, make: (r) => `List the dates mentioned here: "We met on ${number(r, 1, 28)} March, shipped on ${number(r, 1, 28)} April and will review on ${number(r, 1, 28)} June."` },
  { category: 'extraction', label: 'medium', count: 12, make: (r) => `From the report below, extract a JSON object with the fields revenue_growth_percent, free_cash_flow, new_offices (array of cities), restructuring_charge and outlook. Use null when a value is missing.\n\n${document(r, 'report', r.integer(12, 30))}` },
  { category: 'extraction', label: 'medium', count: 10, make: (r) => `Here are application logs. Extract every WARN and ERROR line into a table with columns time, level, message, and say which one most likely affected customers:\n\n${document(r, 'logs', r.integer(40, 90))}` },

  // long context
  { category: 'long-context', label: 'simple', count: 8, make: (r) => `${document(r, 'article', r.integer(60, 110))}\n\nWhat is the topic of the article above, in three words?` },
  { category: 'long-context', label: 'medium', count: 8, make: (r) => `${document(r, 'logs', r.integer(120, 200))}\n\nFind the first ERROR line in the log above and quote it.` },
  { category: 'long-context', label: 'complex', count: 10, make: (r) => `Below is a supply agreement. ${r.pick(['Identify every clause that conflicts with another clause or with the liability cap, explain the conflict, and propose redlines that resolve each one without shifting risk to the Customer.', 'We are the Customer. Assess our exposure if the Supplier delivers late three times and then terminates; walk through the clauses in order and recommend a negotiation strategy.'])}\n\n${document(r, 'contract', r.integer(50, 90))}` },
  { category: 'long-context', label: 'complex', count: 8, make: (r) => `Report A:\n${document(r, 'report', 40)}\n\nReport B:\n${document(r, 'report', 40)}\n\nThese two reports describe the same quarter. Reconcile them: list every figure on which they disagree, reason about which is more likely correct, and explain what the discrepancies imply for the outlook.` },

  // code
  { category: 'code', label: 'simple', count: 10, make: (r) => `What does this ${r.pick(['Python', 'JavaScript'])} print?\n\nprint(len("${r.pick(['hello', 'switchyard', 'abc', 'router'])}"))` },
  { category: 'code', label: 'simple', count: 8, make: (r) => `How do I ${r.pick(['undo the last git commit but keep the changes', 'list hidden files in a terminal', 'rename a git branch', 'check which Python version is installed', 'exit vim', 'see which process uses port 8080', 'create a Python virtual environment', 'delete a local git branch', 'find large files on Linux', 'make a script executable', 'show the current git branch', 'count lines in a file'])}?` },
  { category: 'code', label: 'medium', count: 18, make: (r) => `Write a ${r.pick(languagesCode)} function that ${r.pick(dataTasks)}. Include a short docstring and two example calls.` },
  { category: 'code', label: 'medium', count: 12, make: (r) => `${r.pick(['I get this error and don\'t understand it:', 'My build fails with:', 'Getting this at runtime:'])}\n\n${r.pick(errors)}\n\n${r.pick(['What usually causes it and how do I fix it?', 'How do I fix this?', 'What does it mean?'])}` },
  { category: 'code', label: 'medium', count: 10, make: (r) => `Write a SQL query that returns the ${r.pick(['top 5 customers by total order value in 2024', 'number of orders per month for the last 12 months', 'products that were never ordered', 'average delivery time per warehouse'])}, given tables customers(id, name), orders(id, customer_id, created_at, total) and order_items(order_id, product_id, quantity).` },
  { category: 'code', label: 'complex', count: 12, make: (r) => `Design ${r.pick(systems)}. Cover the data model, the consistency guarantees, how it fails over, the bottlenecks at 10x load, and the trade-offs you would revisit later.` },
  { category: 'code', label: 'complex', count: 10, make: (r) => `${r.pick(['This worker pool', 'Our job pool', 'The pool below'])} sometimes ${r.pick(['deadlocks under load', 'hangs in production', 'stalls after a burst'])} and sometimes processes a job twice:\n\n\`\`\`\nfunc (p *Pool) Submit(job Job) {\n  p.mu.Lock()\n  p.pending = append(p.pending, job)\n  p.cond.Signal()\n  p.mu.Unlock()\n}\n\nfunc (p *Pool) worker() {\n  for {\n    p.mu.Lock()\n    for len(p.pending) == 0 { p.cond.Wait() }\n    job := p.pending[0]\n    p.mu.Unlock()\n    job.Run()\n    p.mu.Lock()\n    p.pending = p.pending[1:]\n    p.mu.Unlock()\n  }\n}\n\`\`\`\n\nFind the root causes, explain the interleavings that trigger them, and give a corrected version with a test that would have caught it.` },
  { category: 'code', label: 'complex', count: 8, make: (r) => `Implement a lock-free ${r.pick(['single-producer single-consumer ring buffer', 'multi-producer queue', 'reference-counted pointer'])} in ${r.pick(['C++', 'Rust'])}, explain the memory orderings you chose for every atomic operation and argue why it is linearisable.` },
  { category: 'code', label: 'complex', count: 6, make: (r) => `Give an O(n log n) algorithm for ${r.pick(['counting inversions in an array', 'the closest pair of points in the plane', 'the longest increasing subsequence', 'the skyline problem', 'merging k sorted lists of total size n', 'the number of pairs with sum at most t'])}, prove its correctness and its running time, and explain why a naive ${r.pick(['quadratic', 'greedy'])} approach fails.` },

  // math
  { category: 'math', label: 'simple', count: 12, make: (r) => `What is ${number(r, 12, 999)} ${r.pick(['+', '-', 'times'])} ${number(r, 2, 99)}?` },
  { category: 'math', label: 'simple', count: 8, make: (r) => `What is ${r.pick(['10', '15', '20', '25'])}% of ${number(r, 40, 900)}?` },
  { category: 'math', label: 'medium', count: 10, make: (r) => `Solve for x: ${number(r, 2, 9)}x^2 - ${number(r, 10, 40)}x + ${number(r, 1, 20)} = 0. Show your steps.` },
  { category: 'math', label: 'medium', count: 10, make: (r) => `A train leaves at ${number(r, 6, 11)}:00 going ${number(r, 60, 120)} km/h; another leaves the same station ${number(r, 1, 3)} hours later going ${number(r, 130, 180)} km/h on the same track. When does the second catch up, and how far from the station?` },
  { category: 'math', label: 'medium', count: 8, make: (r) => `Compute the derivative of f(x) = ${r.pick(['x^3 sin(x)', 'e^(2x) / (1 + x^2)', 'ln(x^2 + 1)', 'sqrt(x) cos(x)'])} and find where it equals zero on [0, ${number(r, 2, 6)}].` },
  { category: 'math', label: 'complex', count: 10, make: (r) => `Prove that there are infinitely many primes of the form ${r.pick(['4k + 3', '6k + 5', '3k + 2', '8k + 7', '4k + 1', '8k + 1', '5k + 4', '12k + 11'])}${r.pick(['.', ' using only elementary methods.', ', without Dirichlet\'s theorem.'])}` },
  { category: 'math', label: 'complex', count: 10, make: (r) => `Find all ${r.pick(['integer', 'positive integer'])} solutions of x^2 - ${r.pick(['2', '3', '5', '6', '7', '10', '11', '13', '14', '15'])}y^2 = ${r.pick(['1', '-1'])}.` },
  { category: 'math', label: 'complex', count: 10, make: (r) => `Find all primes p such that ${r.pick(['p^2 + 2 is', '2^p + p^2 is', 'p^2 + 14 is', '8p^2 + 1 is', 'p^4 + 2 is', 'p + 10 and p + 20 are', '4p^2 + 1 and 6p^2 + 1 are', 'p^3 + 2 is', '2p + 1 and 4p + 1 are'])} ${r.pick(['also prime', 'prime as well', 'prime too'])}.` },
  { category: 'math', label: 'complex', count: 8, make: (r) => `Is ${r.pick(['2^61 - 1', '10^9 + 7', '2^32 + 1', '561', '7919', '1729', '2^31 - 1', '91', '8911', '2^67 - 1'])} prime? ${r.pick(['Justify the answer without a computer.', 'Give a certificate.', 'Explain how you know.'])}` },
  { category: 'math', label: 'complex', count: 8, make: (r) => `Let $a_1 = ${number(r, 2, 9)}$ and $a_{n+1} = ${r.pick(['a_n^2 - a_n + 1', 'a_1 a_2 \\cdots a_n + 1'])}$. Show that the $a_n$ are pairwise coprime and evaluate $\\sum_{n \\ge 1} \\frac{1}{a_n}$.` },

  // reasoning
  { category: 'reasoning', label: 'simple', count: 8, make: (r) => `Which is bigger, ${number(r, 2, 9)}/${number(r, 10, 19)} or ${number(r, 2, 9)}/${number(r, 10, 19)}?` },
  { category: 'reasoning', label: 'medium', count: 10, make: (r) => `Give me the pros and cons of ${r.pick(topics)} for a small company, and a recommendation.` },
  { category: 'reasoning', label: 'medium', count: 8, make: (r) => `${r.pick(names)} is older than ${r.pick(names)}, who is older than ${r.pick(names)}. ${r.pick(names)} is the youngest of four friends. Who could be the oldest? Explain.` },
  { category: 'reasoning', label: 'complex', count: 10, make: (r) => {
    const people = shuffled(r, names).slice(0, 5);
    return `Five people — ${people.join(', ')} — each say one sentence. ${people[0]}: "${people[1]} is a liar." ${people[1]}: "Exactly two of us tell the truth." ${people[2]}: "${people[0]} and ${people[3]} are of the same type." ${people[3]}: "${people[4]} is a knight." ${people[4]}: "${people[2]} is a knave." Knights always tell the truth, knaves always lie. Determine who is what and show the case analysis.`;
  } },
  { category: 'reasoning', label: 'complex', count: 10, make: (r) => `Schedule ${number(r, 6, 9)} exams into ${number(r, 3, 4)} days with two slots per day so that no student sits two exams on the same day, given these conflicts: ${Array.from({ length: 8 }, () => `E${r.integer(1, 6)}-E${r.integer(1, 6)}`).join(', ')}. If it is impossible, prove it; otherwise give a schedule and explain why it is valid.` },
  { category: 'reasoning', label: 'complex', count: 8, make: (r) => `In a sealed-bid second-price auction with ${number(r, 2, 8)} bidders whose values are independent and ${r.pick(['uniform on [0, 1]', 'exponential with mean 1', 'uniform on [1, 2]'])}, what is the expected revenue? Then compare it with a first-price auction and explain the revenue equivalence theorem's assumptions.` },

  // law
  { category: 'law', label: 'simple', count: 10, make: (r) => `What does "${r.pick(legalTerms)}" mean?` },
  { category: 'law', label: 'medium', count: 10, make: (r) => `Explain the difference between ${r.pick(['a misdemeanor and a felony', 'a patent and a trademark', 'civil and criminal law', 'a will and a trust', 'mediation and arbitration', 'copyright and trademark', 'a lease and a licence', 'libel and slander', 'an LLC and a sole proprietorship', 'parole and probation'])} ${r.pick(['in plain language', 'with an example', 'for a non-lawyer'])}.` },
  { category: 'law', label: 'complex', count: 10, make: (r) => `My landlord in ${r.pick(states)} kept my whole deposit, citing ${r.pick(['normal wear on the carpet', 'a late rent payment from last year', 'repainting the flat', 'a broken dishwasher that was old'])}. The lease says deductions need an itemised list within 21 days and I got none. Analyse whether the withholding is lawful, what remedies I have, and what evidence I need.` },
  { category: 'law', label: 'complex', count: 10, make: (r) => `Does promissory estoppel apply where ${r.pick(['an employer promised a bonus orally and then rescinded it after the employee turned down another offer', 'a landlord said rent would stay the same for a year and raised it after three months', 'a franchisor assured a buyer a licence would follow and then withdrew', 'a parent promised to pay tuition and the child enrolled', 'a lender said it would not enforce a late fee and then did', 'a charity pledge was withdrawn after the building work started'])}${r.pick(['?', ' in ' + r.pick(states) + '?'])}` },
  { category: 'law', label: 'complex', count: 8, make: (r) => `Is an email exchange enough to form a binding contract for the sale of ${r.pick(['a used car', 'a warehouse lease', '10,000 units of stock', 'a software licence'])} under ${r.pick(['the UCC', 'English law', 'German law'])}, and is the hearsay rule a problem for proving it?` },

  // medicine
  { category: 'medicine', label: 'simple', count: 10, make: (r) => `What is a normal ${r.pick(['resting heart rate', 'body temperature', 'blood pressure', 'blood oxygen level', 'breathing rate', 'fasting blood sugar'])} for ${r.pick(['an adult', 'a child', 'an older adult'])}?` },
  { category: 'medicine', label: 'medium', count: 10, make: (r) => `How does ${r.pick(drugs)} work, and what are its most common side effects?` },
  { category: 'medicine', label: 'complex', count: 10, make: (r) => `A ${number(r, 45, 85)}-year-old ${r.pick(['man', 'woman'])} presents with ${r.pick(['sudden shortness of breath and pleuritic chest pain', 'fever, confusion and a stiff neck', 'painless jaundice and weight loss', 'palpitations and syncope'])}. History of ${r.pick(['type 2 diabetes', 'atrial fibrillation on warfarin', 'chronic kidney disease stage 3', 'recent hip surgery'])}. Give a differential diagnosis ranked by likelihood, the first investigations, and how the history changes management.` },
  { category: 'medicine', label: 'complex', count: 8, make: (r) => `How should ${r.pick(drugs)} be dosed in a patient with a creatinine clearance of ${number(r, 15, 40)} mL/min who also takes ${r.pick(drugs)}?` },

  // chemistry
  { category: 'chemistry', label: 'simple', count: 10, make: (r) => `What is the chemical symbol for ${r.pick(elements)}?` },
  { category: 'chemistry', label: 'medium', count: 10, make: (r) => `Balance this equation: ${r.pick(['Fe + O2 -> Fe2O3', 'C3H8 + O2 -> CO2 + H2O', 'Al + HCl -> AlCl3 + H2', 'KMnO4 + HCl -> KCl + MnCl2 + H2O + Cl2', 'C6H12O6 + O2 -> CO2 + H2O'])}` },
  { category: 'chemistry', label: 'medium', count: 6, make: (r) => `What is the pH of a ${r.pick(['0.01', '0.05', '0.1', '0.2', '0.001'])} M solution of ${r.pick(['acetic acid (pKa 4.76)', 'ammonia (pKb 4.75)', 'hydrochloric acid'])}?` },
  { category: 'chemistry', label: 'complex', count: 10, make: (r) => `Propose a mechanism for ${r.pick(reactions)}.` },
  { category: 'chemistry', label: 'complex', count: 8, make: (r) => `Plan a synthesis of ${r.pick(targets)} from ${r.pick(['benzene', 'phenol', 'toluene', 'aniline'])} and justify each step's regiochemistry.` },
  { category: 'chemistry', label: 'complex', count: 8, make: (r) => `Why does ${r.pick(['tert-butyl bromide', '2-bromo-2-methylbutane', 'benzyl chloride', 'neopentyl bromide'])} react with ${r.pick(['water', 'ethanol', 'sodium ethoxide'])} the way it does?` },

  // finance
  { category: 'finance', label: 'simple', count: 8, make: (r) => `What is ${r.pick(['a dividend', 'a bond', 'an index fund', 'inflation', 'a mortgage', 'a credit score', 'an ETF', 'a savings account', 'compound interest', 'a stock split'])}?` },
  { category: 'finance', label: 'medium', count: 10, make: (r) => `If I invest ${number(r, 1, 50)}000 at ${number(r, 2, 8)}% annual interest compounded monthly, how much will I have after ${number(r, 5, 30)} years? Show the formula.` },
  { category: 'finance', label: 'complex', count: 10, make: (r) => `Value a company with free cash flow of ${number(r, 20, 90)}m growing ${number(r, 8, 20)}% for five years and ${number(r, 1, 3)}% after, WACC ${number(r, 7, 11)}%, net debt ${number(r, 50, 300)}m and ${number(r, 10, 80)}m shares. Then say which assumption the value is most sensitive to and why.` },
  { category: 'finance', label: 'complex', count: 6, make: (r) => `I hold ${number(r, 1, 9)}00 shares of a stock at ${number(r, 40, 200)}. Design an options collar that caps my loss at 10% for six months at near-zero cost, and explain the payoff and the risks if volatility ${r.pick(['doubles', 'collapses'])}.` },

  // security
  { category: 'security', label: 'medium', count: 10, make: (r) => `Explain ${r.pick(['cross-site scripting', 'CSRF', 'SQL injection', 'how TLS certificates are validated', 'what a JWT is and when not to use one', 'password hashing with bcrypt', 'OAuth authorization code flow', 'CORS'])} ${r.pick(['and how', 'and explain how'])} to prevent or use it safely in a web app.` },
  { category: 'security', label: 'complex', count: 8, make: (r) => `Write a threat model for ${r.pick(['a password manager browser extension', 'an AI gateway that holds provider API keys', 'a hospital patient portal', 'a CI system that runs pull requests from forks', 'a smart-lock mobile app', 'a payroll SaaS', 'an internal admin dashboard'])}${r.pick([':', ', covering'])} assets, attackers, entry points, the top five attacks with their likelihood and impact, and mitigations.` },
  { category: 'security', label: 'complex', count: 8, make: (r) => `An attacker can control the URL our server fetches for link previews. ${r.pick(['We block 127.0.0.1 and localhost.', 'We resolve the host and reject private IP ranges before fetching.', 'We only allow http and https schemes.', 'We follow at most three redirects.'])} ${r.pick(['Explain how this can still be exploited and design a robust defence.', 'What attacks remain possible, and how do we close them?'])}` },
];
