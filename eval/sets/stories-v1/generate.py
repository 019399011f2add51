#!/usr/bin/env python3
"""Writes items.jsonl and manifest.json of the stories-v1 eval set.

stories-v1 is written for stories260K (llama2.c's 260K-parameter model
trained on TinyStories): short children's stories in TinyStories' style and
vocabulary. Items probe what such a model can do, so that a quantized
variant's regressions show: fluent text in four slices (dialogue, names and
pronouns, counting and numbers, long stories past 256 tokens); multiple
choice where one option is the grammatical or coherent continuation and the
others are not; greedy continuations checked by a rule.

Run it after editing the items: it rewrites both files (the manifest's
sha256 follows the items). A changed item needs a new version.
"""
import hashlib
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
VERSION = "1.0.0"

items = []


def add(kind, slice_, dims, **fields):
    n = sum(1 for it in items if it["slice"] == slice_) + 1
    prefix = {"dialogue": "dlg", "names-pronouns": "np", "counting-numbers": "num", "long-context": "long"}[slice_]
    items.append({"id": f"{prefix}-{kind[0]}{n:03d}", "slice": slice_, "kind": kind, "dimensions": dims, **fields})


def text(slice_, t):
    add("text", slice_, ["fidelity", "fluency"], text=t)


def choice(slice_, dims, context, choices, answer=0):
    add("choice", slice_, dims, context=context, choices=choices, answer=answer)


def gen(slice_, dims, prompt, match, max_tokens=8, stop=None):
    f = {"prompt": prompt, "max_tokens": max_tokens, "match": match}
    if stop:
        f["stop"] = stop
    add("generate", slice_, dims, **f)


def prefix(v):
    return {"rule": "prefix", "value": v}


def regex(p):
    return {"rule": "regex", "pattern": p}


def exact(v):
    return {"rule": "exact", "value": v}


# --- dialogue ---------------------------------------------------------------
D = "dialogue"
for t in [
    'Lily saw a little dog in the park. "Hello, dog!" she said. "Do you want to play with me?" The dog wagged its tail and barked. Lily laughed and threw the ball.',
    'Tom was sad. His mom came to him and asked, "Why are you sad, Tom?" Tom said, "I lost my red car." His mom smiled and said, "Let us look for it together."',
    '"Can I have a cookie?" asked Ben. "Yes, you can have one," said his mom. Ben took a big cookie. "Thank you, mom!" he said with a smile.',
    'The bird sat on the tree. "I am cold," said the bird. The sun came out and the bird felt warm. "Now I am happy," said the bird.',
    'Sue and Max played in the garden. "Look, a butterfly!" said Sue. "It is so pretty," said Max. They watched the butterfly fly away.',
    '"Mom, can we go to the park?" asked Lily. "Not now, it is raining," said Mom. Lily looked out of the window. "I will wait for the sun," she said.',
    'The cat saw a mouse. "Please do not eat me," said the mouse. The cat was kind. "I will not eat you," said the cat. "Let us be friends."',
    'Timmy found a big box. "What is in the box?" he asked his dad. "Open it and see," said his dad. Timmy opened the box and saw a new toy truck.',
    '"I want to help you," said Anna to her friend. "Thank you, Anna," said her friend. They cleaned the room together and then they played with the blocks.',
    'The little bunny was lost. "Where is my home?" it cried. A kind owl said, "Your home is by the big tree." The bunny said, "Thank you, owl!"',
    'Mia had a new doll. "Can I play with your doll?" asked her brother. Mia thought for a moment. "Yes, we can share," she said. They played all day.',
    '"Be careful!" said Dad. "The floor is wet." Jack walked slowly. He did not fall. "Good job, Jack," said Dad, and he gave him a hug.',
]:
    text(D, t)

for ctx, ch, ans, dims in [
    ('"Can I play with your ball?" asked Tom. "Yes, you can," said', [" Lily.", " ball Lily the."], 0, ["grammar"]),
    ('Lily said, "I am so happy!" Her mom', [" smiled.", " smiles happy the."], 0, ["grammar"]),
    ('"Thank you for the toy," said Ben. His friend said, "You are', [" welcome.", " the toy welcome."], 0, ["grammar"]),
    ('The dog barked. "Woof!" The cat said, "', ["Meow!", "Woof the!"], 0, ["grammar"]),
    ('"Where are you going?" asked Mom. "I am going to the', [" park,\" said Tom.", " said park Tom."], 0, ["grammar"]),
    ('Sue was hungry. "Can I have an apple?" she asked. Her dad gave her', [" an apple.", " a apple him."], 0, ["grammar"]),
    ('"Do you want to be my friend?" asked the bird. "Yes!" said the', [" bunny.", " bunny said yes bunny."], 0, ["grammar"]),
    ('Max lost his hat. "Have you seen my hat?" he', [" asked.", " hat asked seen."], 0, ["grammar"]),
    ('"I am sorry," said Tim. "I did not mean to break your toy." His sister said, "It is', [" okay.", " toy break okay is."], 0, ["grammar"]),
    ('The little girl said, "Look at the big', [" tree!\"", " tree is are!\""], 0, ["grammar"]),
    ('Mom said, "It is time for bed." Lily said, "Can I have one more', [" story?\"", " bed story the?\""], 0, ["grammar"]),
    ('"Help!" cried the kitten. "I am stuck in the', [" tree!\"", " happy!\""], 0, ["grammar", "recall"]),
    ('Tom asked his dad, "Can we play ball?" His dad said, "Yes, let us play', [" ball!\"", " bed!\""], 0, ["recall"]),
    ('Anna was sad because her kite broke. Her friend said, "Do not be', [" sad.", " happy."], 0, ["recall"]),
    ('"I like to eat carrots," said the bunny. The bunny ate a big orange', [" carrot.", " shoe."], 0, ["recall"]),
    ('Ben said, "My dog is lost!" He looked for his', [" dog.", " cake."], 0, ["recall"]),
    ('"It is so cold today," said Mom. "Put on your', [" coat.\"", " swim.\""], 0, ["recall"]),
    ('The duck said, "Quack, quack!" and jumped into the', [" water.", " fire."], 0, ["recall"]),
    ('"Can you help me find my ball?" asked Sue. "Yes," said Max. They looked under the bed and found the', [" ball.", " moon."], 0, ["recall"]),
    ('Lily gave her friend a flower. Her friend said, "Thank', [" you!\"", " flower!\""], 0, ["grammar"]),
]:
    choice(D, dims, ctx, ch, ans)

for prompt, match, dims, mt, stop in [
    ('"Can I play with you?" asked the little bird. "Yes,', regex(r'^ (I|you|we|she|he|it)\b'), ["generation"], 6, None),
    ('Tom said, "I am hungry." His mom gave him a big', regex(r'^ (hug|apple|cookie|sandwich|bowl|cake)'), ["generation", "recall"], 4, None),
    ('Lily said, "Thank you, Mom!" Her mom', regex(r'^ (smiled|said|hugged|was|gave)'), ["generation"], 4, None),
    ('"What is your name?" asked the boy. "My name is', regex(r'^ [A-Z][a-z]+'), ["generation"], 4, None),
    ('The dog saw a cat and said, "', regex(r'^[A-Z][a-z]*'), ["generation"], 6, None),
    ('Ben asked, "Can we go to the park?" His dad said, "', regex(r'^(Yes|No|Okay|Sure|Of course|Let)'), ["generation"], 6, None),
    ('"I love you," said Lily to her', regex(r'^ (mom|dad|friend|dog|cat|brother|sister|mommy|daddy)'), ["generation"], 3, None),
    ('Sue was sad. Her friend asked, "Why are you', prefix(" sad"), ["generation", "recall"], 3, None),
    ('"Look at the sky!" said Tom. "It is so', regex(r'^ (big|blue|pretty|beautiful|bright|high|dark)'), ["generation"], 4, None),
    ('Mom said, "Please clean your room." Lily said, "', regex(r'^(Okay|Yes|No|I|But|Sorry)'), ["generation"], 5, None),
]:
    gen(D, dims, prompt, match, mt, stop)

# --- names and pronouns -----------------------------------------------------
N = "names-pronouns"
for t in [
    "Once upon a time, there was a little girl named Lily. She loved to play with her ball. Every day, she went to the park with her mom.",
    "Tom was a happy boy. He liked to run and jump. One day, he saw a big tree. He wanted to climb it, so he climbed to the top.",
    "Ben and Mia were friends. They liked to play in the sand. Ben made a big castle and Mia made a small one. They were both very proud.",
    "There was a cat named Max. Max was very lazy. He liked to sleep in the sun all day. His friend, a little bird, liked to sing to him.",
    "Sara had a brother named Jack. Jack was three years old. Sara helped him put on his shoes. Jack said thank you and gave her a hug.",
    "Once there was an old man who lived in a small house. He had a dog named Spot. The man and his dog went for a walk every morning.",
    "Lucy wanted to bake a cake for her mom. She asked her dad for help. Together they mixed the flour and the eggs. Mom loved the cake.",
    "Timmy had a blue car. He played with it every day. One day, his friend Sam came over. Timmy let Sam play with the blue car too.",
    "The queen had a pretty crown. She wore it every day. One day, she lost her crown in the garden. A little girl found it and gave it back to her.",
    "Amy and her dog went to the beach. The dog ran into the water. Amy laughed and ran after him. They played in the waves until the sun went down.",
]:
    text(N, t)

for ctx, ch, ans, dims in [
    ("Once upon a time, there was a boy named Ben. Ben had a red ball. One day, the ball rolled away. The boy who lost the ball was", [" Ben.", " Lily."], 0, ["recall"]),
    ("Lily had a little cat. Every day, Lily gave the cat milk. The cat loved", [" Lily.", " Tom."], 0, ["recall"]),
    ("Tom was sad because he lost", [" his toy.", " her toy."], 0, ["grammar"]),
    ("Lily was happy because she found", [" her doll.", " his doll."], 0, ["grammar"]),
    ("The boy went to the park. Then", [" he played on the swing.", " she played on the swing."], 0, ["grammar"]),
    ("The girl was tired, so", [" she went to bed.", " he went to bed."], 0, ["grammar"]),
    ("Ben and Sue went to the store. Then", [" they went home.", " he went home."], 0, ["grammar"]),
    ("Mom made soup for dinner. Dad said the soup was good. Tom ate all of", [" his soup.", " her soup."], 0, ["grammar"]),
    ("There was a girl named Mia. Mia liked flowers. One day,", [" Mia picked a red flower.", " Tom picked a red flower."], 0, ["recall"]),
    ("Max the dog liked bones. One day, Max found a big", [" bone.", " car."], 0, ["recall"]),
    ("Sara had a little brother. She loved", [" him very much.", " she very much."], 0, ["grammar"]),
    ("Tim and his mom went to the zoo. Tim saw a lion. He held his mom's", [" hand.", " lion."], 0, ["recall"]),
    ("Lucy wanted to play, but her friend was sick. Lucy went to", [" her friend's house.", " his friend's house."], 0, ["grammar"]),
    ("The bird had a nest in the tree. The bird flew back to", [" its nest.", " her cake."], 0, ["recall"]),
    ("Jack gave the ball to his sister. She said, \"Thank you,", [" Jack!\"", " Lily!\""], 0, ["recall"]),
    ("Anna saw a puppy. The puppy was lost. Anna took the puppy to", [" her home.", " his home."], 0, ["grammar"]),
    ("The children played in the snow. They made a big", [" snowman.", " sun."], 0, ["recall"]),
    ("Once upon a time, there was a little girl named Lily.", [" She loved to play outside.", " He loved to play outside."], 0, ["grammar"]),
    ("Once upon a time, there was a boy named Tom.", [" He had a big dog.", " She had a big dog."], 0, ["grammar"]),
    ("Mom and Dad took Lily to the park.", [" They had a lot of fun.", " It had a lot of fun."], 0, ["grammar"]),
    ("Sue wanted a cookie, so she asked her mom. Her mom gave", [" her a cookie.", " him a cookie."], 0, ["grammar"]),
    ("Tom had a friend named Sam. Tom and Sam played with", [" their toys.", " her toys."], 0, ["grammar"]),
]:
    choice(N, dims, ctx, ch, ans)

for prompt, match, dims, mt in [
    ("Once upon a time, there was a little girl named", prefix(" Lily"), ["generation"], 3),
    ("Once upon a time, there was a boy named Tom. Tom had a big red ball. One day,", prefix(" Tom"), ["generation", "recall"], 3),
    ("Lily loved her cat. Every morning,", regex(r"^ (she|Lily|the cat|her)\b"), ["generation", "recall"], 3),
    ("Tom was a brave boy.", regex(r"^ (He|Tom|One|His)\b"), ["generation"], 3),
    ("There was a girl named Sue. Sue liked to sing. One day,", regex(r"^ (Sue|she)\b"), ["generation", "recall"], 3),
    ("Ben and his dad went fishing.", regex(r"^ (They|Ben|He|His)\b"), ["generation"], 3),
    ("The girl picked a flower and gave it to", regex(r"^ (her|his|the|a)\b"), ["generation"], 3),
    ("Max was a big dog.", regex(r"^ (He|Max|His|One)\b"), ["generation"], 3),
    ("Lily and Tom were best friends.", regex(r"^ (They|Lily|Tom|One|Every)\b"), ["generation"], 3),
    ("Mom said to Lily, \"You are a good girl.\"", regex(r"^\s*(Lily|She|Her)\b"), ["generation", "recall"], 3),
]:
    gen(N, dims, prompt, match, mt)

# --- counting and numbers ---------------------------------------------------
C = "counting-numbers"
for t in [
    "Tom had two apples. He gave one apple to his friend. Now Tom had one apple and his friend had one apple. They were both happy.",
    "Lily counted the birds in the tree. One, two, three, four, five! There were five birds. They sang a happy song together.",
    "Ben was four years old. His sister was six years old. She was two years older than Ben. They liked to play games together.",
    "There were three little pigs. The first pig made a house of straw. The second pig made a house of sticks. The third pig made a house of bricks.",
    "Mom gave Sue ten grapes. Sue ate three grapes. Then she ate two more. She saved the rest for her brother.",
    "Every day, the little dog ran around the park two times. On the first day, he was slow. On the second day, he was fast.",
    "Max had many toys. He had one ball, two cars and three blocks. He put all of his toys in a big box.",
    "It was the first day of school. Lily was happy and a little scared. She met two new friends. By the end of the day, she was not scared.",
    "The farmer had five cows and two horses. Every morning, he gave them food and water. The animals loved the farmer.",
    "Tim saw a lot of stars in the sky. He tried to count them. One, two, three, many stars! He could not count them all.",
]:
    text(C, t)

for ctx, ch, ans, dims in [
    ("One, two, three,", [" four,", " seven,"], 0, ["recall"]),
    ("Lily counted her toys: one, two, three, four,", [" five.", " nine."], 0, ["recall"]),
    ("Tom had one dog and one cat. He had two", [" pets.", " pet."], 0, ["grammar"]),
    ("There were three birds in the tree. Then one bird flew away. Now there were", [" two birds.", " ten birds."], 0, ["recall"]),
    ("Ben had two apples and he ate one. Now he had one", [" apple.", " apples."], 0, ["grammar"]),
    ("Sue has a lot of", [" flowers.", " flower."], 0, ["grammar"]),
    ("The cat had four little", [" kittens.", " kitten."], 0, ["grammar"]),
    ("Mom baked six cookies. Lily ate one cookie. There were", [" five cookies left.", " one cookies left."], 0, ["recall"]),
    ("The first day was sunny. The second day was", [" rainy.", " first."], 0, ["grammar"]),
    ("Max was three years old. Next year, he will be", [" four.", " one."], 0, ["recall"]),
    ("There were two dogs. One dog was big and the other dog was", [" small.", " two."], 0, ["grammar"]),
    ("Tom saw many", [" birds in the sky.", " bird in the sky."], 0, ["grammar"]),
    ("Lily has two hands and ten", [" fingers.", " finger."], 0, ["grammar"]),
    ("The little girl had one red ball and one blue ball. She had two", [" balls.", " ball."], 0, ["grammar"]),
    ("Once upon a time, there were three", [" little bears.", " little bear."], 0, ["grammar"]),
    ("Ben wanted to count to ten. He said, \"One, two,", [" three!\"", " ten!\""], 0, ["recall"]),
    ("Every day, Sam ate one banana. After two days, he had eaten", [" two bananas.", " two banana."], 0, ["grammar"]),
    ("The spider has eight", [" legs.", " leg."], 0, ["grammar"]),
    ("Mia had five balloons. One balloon popped. She was sad, but she still had", [" four balloons.", " six balloons."], 0, ["recall"]),
    ("There was only one cookie left, so Tom and Lily shared", [" it.", " them."], 0, ["grammar"]),
]:
    choice(C, dims, ctx, ch, ans)

for prompt, match, dims, mt in [
    ("One, two, three,", prefix(" four"), ["generation", "recall"], 2),
    ("Ben had three toys: a car, a ball and a", regex(r"^ [a-z]+"), ["generation"], 3),
    ("Lily saw two birds. The birds", regex(r"^ (were|flew|sang|was|saw|had|are)\b"), ["generation", "recall"], 2),
    ("Tom was five years old. He", regex(r"^ (was|had|liked|loved|wanted|went|did|could)\b"), ["generation"], 2),
    ("There were many", regex(r"^ [a-z]+s\b"), ["generation"], 3),
    ("The first pig made a house of straw. The second pig", regex(r"^s? (made|was|were|had|saw|said|wanted|went)\b"), ["generation", "recall"], 3),
    ("Once upon a time, there were two", regex(r"^ [a-z]+"), ["generation"], 3),
    ("Mom gave Lily three cookies.", regex(r"^ (Lily|She|The|Her)\b"), ["generation", "recall"], 2),
    ("The little dog had four", regex(r"^ [a-z]+"), ["generation"], 2),
    ("Every day, Tom played with his two", regex(r"^ [a-z]+"), ["generation"], 2),
]:
    gen(C, dims, prompt, match, mt)

# --- long context: stories past 256 tokens ----------------------------------
L = "long-context"
long_stories = [
    # (story, [(question context suffix, choices, answer)], (generate suffix, match))
    (
        "Once upon a time, there was a little girl named Lily. Lily had a small red bike. Every morning, she rode her bike to the park near her house to give bread to the ducks in the pond. "
        "One day, Lily rode her bike to the park, but the ducks were not there. She looked behind the bench. "
        "\"Where are the ducks?\" she asked. An old man on the bench said the ducks went to the other side of the pond. Lily rode her bike around the pond. There she saw the ducks! They were swimming in the water and eating plants. Lily laughed and gave them her bread. "
        "When the sun went down, she rode her red bike back home. ",
        [
            (" The girl in this story was named", [" Lily.", " Sue."], 0),
            (" Lily rode to the park on her", [" bike.", " horse."], 0),
            (" Lily gave the ducks some", [" bread.", " shoes."], 0),
        ],
        (" The next day, Lily rode her bike to the", regex(r"^ (park|pond)\b")),
    ),
    (
        "Once upon a time, there was a boy named Tom. Tom lived in a small house with his mom, his dad and his dog, Max. "
        "Every day after school, Tom and Max played ball in the garden. Tom threw the ball and Max ran to get it. "
        "One day, Tom threw the ball very far. The ball went over the fence and into the garden of the next house. Max ran to the fence, but he could not jump over it. "
        "His dad came out of the house and asked, \"What is wrong, Tom?\" His dad said, \"Let us go and ask our friend next door.\" A kind old woman opened the door. "
        "\"Is this your ball?\" She had the ball in her hand! Tom smiled and said, \"Yes, thank you!\" The woman gave Tom the ball and a cookie. ",
        [
            (" The name of Tom's dog was", [" Max.", " Spot."], 0),
            (" The ball went over the", [" fence.", " moon."], 0),
            (" The old woman gave Tom the ball and a", [" cookie.", " car."], 0),
        ],
        (" After dinner, Tom played with his dog,", prefix(" Max")),
    ),
    (
        "There was once a little bird named Pip. Pip lived in a nest at the top of a tall tree with his mom and his two sisters. Pip was the smallest bird in the nest. "
        "His sisters could already fly, but Pip was scared. \"What if I fall?\" he asked his mom. Every day, Pip watched his sisters fly from the tree to the flowers and back. "
        "One sunny morning, Pip stood at the edge of the nest. He closed his eyes and flapped his small wings. "
        "Pip did not fall! He was flying! He flew to the flowers and then to the pond. "
        "Pip was so proud. From that day on, Pip flew every day, "
        "and he was never scared again.",
        [
            (" The little bird in the story was named", [" Pip.", " Tom."], 0),
            (" Pip lived in a nest at the top of a tall", [" tree.", " car."], 0),
            (" At first, Pip was", [" scared to fly.", " happy to swim."], 0),
        ],
        (" The next morning, Pip flew to the", regex(r"^ (flowers|pond|tree|sky|park|nest)")),
    ),
    (
        "Once upon a time, there were two friends, Ben and Mia. Ben had a blue kite and Mia had a yellow kite. On windy days, they went to the hill to fly their kites. "
        "Ben and Mia ran up the hill with their kites. Ben's blue kite went up high into the sky. Mia's yellow kite went up too. "
        "But then, the wind pulled very hard, and Mia's string broke! The yellow kite flew away. "
        "\"My kite is gone,\" she said. Ben had an idea. \"Let us share my kite,\" he said. "
        "Ben gave the string of the blue kite to Mia. Later, a farmer came up the hill. He had the yellow kite! "
        "\"I found this in my field,\" he said. Now Ben and Mia had two kites again, and they flew them together until the sun went down.",
        [
            (" The color of Ben's kite was", [" blue.", " red."], 0),
            (" The kite that flew away was", [" Mia's yellow kite.", " Ben's green kite."], 0),
            (" The yellow kite was found by a", [" farmer.", " fish."], 0),
        ],
        (" The next windy day, Ben and Mia went to the", prefix(" hill")),
    ),
    (
        "Sue loved to help her mom in the kitchen. One day, her mom said, \"Today is Dad's birthday. Let us bake a cake for him.\" "
        "First, they put flour in a big bowl. Then they added sugar, eggs and milk. "
        "Her mom put the cake in the oven. While the cake was baking, Sue made a card for her dad. She drew a big sun, a tree and a happy face on the card. "
        "Sue and her mom put chocolate on the top. Then they put five candles on the cake. "
        "When Dad came home, Sue and Mom sang, \"Happy birthday to you!\" He smiled and said, \"Thank you! This is the best cake!\" ",
        [
            (" The cake was for the birthday of", [" Sue's dad.", " Sue's dog."], 0),
            (" On the top of the cake they put", [" chocolate.", " shoes."], 0),
            (" Sue made a card and drew a big", [" sun.", " car."], 0),
        ],
        (" Dad blew out the", prefix(" candles")),
    ),
    (
        "In a big green forest, there lived a little bunny named Hop. He liked to eat carrots and play with his friend, the squirrel. "
        "One day, Hop and the squirrel played hide and seek. The squirrel hid behind a big rock. "
        "Then it was Hop's turn to hide. He ran far into the forest and hid under a bush. "
        "The sky got dark. Hop was scared. \"I do not know the way home,\" he said. Then he heard a soft voice. It was an owl in the tree. "
        "\"Do not be scared, little bunny,\" said the owl. \"I will help you.\" Soon, Hop saw his home. "
        "Hop hugged his mom and said, \"Thank you, owl!\" "
        "From that day on, Hop never hid too far from home.",
        [
            (" The bunny in this story was named", [" Hop.", " Max."], 0),
            (" Hop found his way home with the help of an", [" owl.", " egg."], 0),
            (" When they played hide and seek, the squirrel hid behind a big", [" rock.", " cake."], 0),
        ],
        (" Hop liked to eat", prefix(" carrots")),
    ),
]
for story, qs, g in long_stories:
    text(L, story)
    for suffix, ch, ans in qs:
        choice(L, ["recall"], story + suffix, ch, ans)
    gen(L, ["generation", "recall"], story + g[0], g[1], 3)

# --- manifest ---------------------------------------------------------------
lines = "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items)
(HERE / "items.jsonl").write_text(lines, encoding="utf-8")
manifest = {
    "schema": "vkq.evalset/1",
    "name": "stories-v1",
    "version": VERSION,
    "description": "TinyStories-style items for stories260K: text scored token by token, multiple choice where one "
    "option is the grammatical or coherent continuation, greedy continuations checked by a rule; four slices.",
    "files": [{"path": "items.jsonl", "sha256": hashlib.sha256(lines.encode("utf-8")).hexdigest()}],
    "slices": [
        {"name": "dialogue", "description": "quoted speech: who speaks, how a quote closes, what is said back"},
        {"name": "names-pronouns", "description": "characters' names recalled, pronouns that agree (he/she/they, his/her)"},
        {"name": "counting-numbers", "description": "counting on, quantities, singular and plural after a number"},
        {"name": "long-context", "description": "stories longer than 256 tokens; questions about details early in them"},
    ],
    "dimensions": [
        {"name": "fidelity", "description": "next-token distribution against the reference variant", "metrics": ["kld", "top1", "delta_p"]},
        {"name": "fluency", "description": "how well the variant predicts the text itself", "metrics": ["perplexity"]},
        {"name": "grammar", "description": "multiple choice: the grammatical continuation over an ungrammatical one", "metrics": ["acc_norm", "acc"]},
        {"name": "recall", "description": "answers that need something said earlier in the context", "metrics": ["acc_norm", "acc", "match"]},
        {"name": "generation", "description": "greedy continuations checked by a rule", "metrics": ["match"]},
    ],
}
(HERE / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
kinds = {}
for it in items:
    kinds[(it["slice"], it["kind"])] = kinds.get((it["slice"], it["kind"]), 0) + 1
print(f"{len(items)} items:", ", ".join(f"{s}/{k} {n}" for (s, k), n in sorted(kinds.items())))
