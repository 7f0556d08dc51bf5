"""Common English given names and the gender they usually go with.

A short list written for Talecast: a name found here gives a character a likely gender
when the text offers no honorific or pronoun that says otherwise.
"""

from __future__ import annotations

_MALE = """
aaron abel abraham adam adrian albert alexander alfred alan allan ambrose andrew
anthony antony archibald arnold arthur augustus austin barnaby bartholomew basil
benedict benjamin bernard bertram bill billy bob charles christopher clarence
clement conrad cyril daniel david dennis denis dick donald dorian douglas duncan
edgar edmund edward edwin eli elijah ernest eugene ezra felix ferdinand francis
frank frederick gabriel geoffrey george gerald gilbert giles godfrey gregory guy
harold harry henry herbert horace hubert hugh humphrey isaac jack jacob james jasper
jeremy jerome jim jim joe john jonathan joseph joshua julian julius kenneth lancelot
laurence lawrence leonard leopold lewis louis luke lucas malcolm mark martin matthew
maurice max michael nathan nathaniel neville nicholas nigel noah norman oliver oscar
owen patrick paul percy peter philip ralph raymond reginald richard robert roderick
roger ronald rowland rupert samuel sebastian silas simon solomon stephen steven
theodore thomas timothy tobias tom victor vincent walter wilfred william
adolphus alphonse antonio carlos jean pierre hans karl franz giovanni ivan dmitri
sergei nikolai pavel alexei ben benny bobby charlie dan danny davy eddie fred freddy
jimmy johnny mike ned nick robin sam sammy ted teddy tim tommy will willy hal jem
marcus jasper roland clifford howard lionel cecil basil rodney stanley wallace
"""

_FEMALE = """
abigail ada adela adelaide agatha agnes alice alicia amelia amy anna anne ann
annabel annie arabella augusta barbara beatrice bella bertha betsy betty blanche
bridget camilla caroline catherine cecilia cecily charlotte clara clarissa
constance cora cordelia daisy deborah diana dinah dolly dora dorothea dorothy
edith eleanor elinor eliza elizabeth ella ellen elsie emily emma esther ethel
eugenia eva evelyn fanny flora florence frances georgiana georgina gertrude grace
gwendolen hannah harriet hattie helen helena henrietta hester hetty hilda isabel
isabella jane janet jemima jennifer jenny jessica jessie joan josephine judith
julia juliet kate katherine kathleen kitty laura lavinia letitia lilian lily
lizzy lizzie louisa louise lucy lydia mabel madeline maggie margaret maria marian
marianne marie marjorie martha mary matilda maud maude meg milly minnie miriam
molly nancy nell nelly nora olivia ophelia patience pauline peggy penelope phoebe
polly priscilla rachel rebecca rose rosalind rosamond ruth sally sarah sibyl sophia
sophie susan susanna sybil teresa theresa ursula victoria violet virginia winifred
annette celia cynthia gladys hermione imogen lucinda lucille lucretia mildred
natalie nina sonia tatiana natasha olga anastasia beth becky sue susie tilly
marguerite rosie viola iris pearl ruby hazel ivy
"""

GIVEN_NAME_GENDER: dict[str, str] = dict.fromkeys(_MALE.split(), "male")
GIVEN_NAME_GENDER.update(dict.fromkeys(_FEMALE.split(), "female"))
